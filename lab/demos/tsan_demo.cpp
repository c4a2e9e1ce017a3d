// race.tsan: ThreadSanitizer finds the counter's data race. The demo compiles
// programs/racy_counter.cpp with -fsanitize=thread, runs it, and shows the
// report: the two conflicting accesses, each with its file:line. `fixed=1`
// compiles the std::atomic version, which gets no report.
//
// lesson: races
#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "demo.hpp"
#include "scratch_folder.hpp"
#include "peer_program.hpp"

namespace lab::demos {
namespace {

namespace fs = std::filesystem;

// The lines of a TSan report worth reading: the warning, each access with
// its first frame (the student's code), and the summary. Full report: full=1.
std::string essentials(const std::string& report) {
  std::istringstream lines(report);
  std::string line, kept;
  bool take_next_frame = false;
  while (std::getline(lines, line)) {
    const bool access = line.find("  Write of size") == 0 || line.find("  Read of size") == 0 ||
                        line.find("  Previous write") == 0 || line.find("  Previous read") == 0;
    if (line.find("WARNING: ThreadSanitizer") != std::string::npos || line.find("SUMMARY:") == 0 ||
        access) {
      kept += line + "\n";
      take_next_frame = access;
    } else if (take_next_frame && line.find("#0") != std::string::npos) {
      kept += line + "\n";
      take_next_frame = false;
    }
  }
  return kept;
}

int run_tsan(const params& p) {
  const bool fixed = p.flag("fixed");
  const bool full = p.flag("full");
  const fs::path source = fs::path(LAB_DEMOS_SOURCE_DIR) / "programs" / "racy_counter.cpp";
  const auto scratch = scratch_folder::make("tsan");
  if (!scratch) {
    fmt::print(stderr, "race.tsan: cannot make a temporary folder in /tmp\n");
    return 3;
  }
  const fs::path folder = scratch->path();
  const fs::path program = folder / "racy_counter";

  std::vector<std::string> compile = {LAB_DEMOS_CXX, "-std=c++20", "-g", "-O0",  // -O0: exact lines
                                      "-fsanitize=thread"};
  if (fixed) compile.push_back("-DLAB_FIXED");
  compile.insert(compile.end(), {source.string(), "-o", program.string()});
  std::string shown;
  for (const auto& word : compile) shown += (shown.empty() ? "" : " ") + word;
  fmt::print("Compiling the {} counter with ThreadSanitizer:\n  {}\n", fixed ? "atomic" : "racy",
             shown);
  std::fflush(stdout);
  const finished_program built = run_to_end(compile);
  if (built.exit_code != 0) {
    fmt::print("The compiler failed:\n{}", built.output);
    return 3;
  }

  fmt::print("Running it (TSan watches every memory access; it runs a few times slower):\n");
  std::fflush(stdout);
  // exitcode=66: a report is not a crash; second_deadlock_stack for lock reports.
  const finished_program ran = run_to_end({program.string()}, {"TSAN_OPTIONS=exitcode=66"});
  const bool reported = ran.output.find("WARNING: ThreadSanitizer: data race") != std::string::npos;
  fmt::print("{}\n", full ? ran.output : essentials(ran.output));
  const auto result_line = ran.output.find("counter = ");
  if (result_line != std::string::npos)
    fmt::print(
        "The program printed: {}",
        ran.output.substr(result_line, ran.output.find('\n', result_line) - result_line + 1));
  if (reported && ran.output.find("counter = 2000000") != std::string::npos)
    fmt::print(
        "No update was lost in this run, and TSan reported the race anyway: it watches\n"
        "the accesses, not the result, so it finds races that did no harm this time.\n");
  if (reported)
    fmt::print(
        "ThreadSanitizer: data race reported. The two accesses above are the read-add-write\n"
        "of `counter` in two threads with no lock between them. Compare: run fixed=1\n");
  else
    fmt::print("ThreadSanitizer: no data race reported{}.\n",
               fixed ? ": the atomic's fetch_add is one indivisible step" : "");
  report_metric("data_race_reported", reported ? 1 : 0, "bool");
  return 0;
}

const registration tsan_demo{{.name = "race.tsan",
                              .summary = "ThreadSanitizer reports the racy counter's data race",
                              .params = {param::flag("fixed", false), param::flag("full", false)},
                              .run = run_tsan}};

}  // namespace
}  // namespace lab::demos
