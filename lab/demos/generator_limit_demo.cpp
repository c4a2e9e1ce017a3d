// coro.limit: what a generator cannot do. Compiles programs/suspend_in_helper.cpp
// twice with the compiler lab was built with:
//   1. as written: a plain helper with a co_yield in it, meant to suspend the
//      generator that called it. It does not compile; the demo shows the
//      compiler's first error and the line it points at (full=1: all it said).
//   2. with -DLAB_FIXED, the workaround: the helper is a generator and its
//      caller yields from it (lab::elements_of). It compiles, runs, and the
//      two generators take turns as in the lesson.
// The demo checks both outcomes before it states the lesson: a compiler that
// accepted the first, or a wrong order from the second, is said as such.
//
// lesson: coroutines, slide "What generators cannot do"
#include <fmt/core.h>

#include <cstdio>
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

// The compiler's first error, with the source line it shows under it, and
// the file's path shortened to its name: "suspend_in_helper.cpp:31:3: error: ...".
std::string first_error(const std::string& output) {
  std::istringstream lines(output);
  std::string line, kept;
  int context = 0;
  while (std::getline(lines, line)) {
    if (context > 0) {
      kept += "    " + line + "\n";
      if (--context == 0) break;
      continue;
    }
    if (line.find(" error: ") == std::string::npos) continue;
    const auto name = line.find("suspend_in_helper.cpp");
    kept = "  " + (name == std::string::npos ? line : line.substr(name)) + "\n";
    context = 2;  // the source line and the caret under it
  }
  return kept;
}

std::string shown(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& word : argv) text += (text.empty() ? "" : " ") + fs::path(word).filename().string();
  return text;
}

int generator_limit(const params& p) {
  const bool full = p.flag("full");
  const fs::path source = fs::path(LAB_DEMOS_SOURCE_DIR) / "programs" / "suspend_in_helper.cpp";
  const fs::path include = fs::path(LAB_DEMOS_SOURCE_DIR) / ".." / "runtime" / "include";
  const auto scratch = scratch_folder::make("limit");
  if (!scratch) {
    fmt::print(stderr, "coro.limit: cannot make a temporary folder in /tmp\n");
    return 3;
  }
  const fs::path folder = scratch->path();
  const fs::path program = folder / "suspend_in_helper";
  const std::vector<std::string> base = {LAB_DEMOS_CXX, "-std=c++20", "-I", include.string()};

  // 1. The helper that tries to suspend its caller.
  std::vector<std::string> broken = base;
  broken.insert(broken.end(), {"-fsyntax-only", source.string()});
  fmt::print("1. announce() is a plain function with a co_yield in it, called by the generator\n"
             "   my_coro(). Compiling it:\n  {}\n",
             shown(broken));
  std::fflush(stdout);
  const finished_program first = run_to_end(broken);
  if (first.exit_code == 127) {
    fmt::print("The compiler ({}) could not be started: this demo needs it.\n", LAB_DEMOS_CXX);
    return 3;
  }
  const std::string error = first_error(first.output);
  const bool refused = first.exit_code != 0 && error.find("coroutine") != std::string::npos;
  if (refused)
    fmt::print("The compiler refuses it{}:\n{}"
               "A co_yield makes the function it is written in a coroutine of its own, and a\n"
               "function that returns void cannot be one. announce() cannot suspend my_coro():\n"
               "only my_coro's own body can.\n\n",
               full ? "" : " (its first error; all it said: full=1)", full ? first.output : error);
  else
    fmt::print("Unexpected: the compiler {} (exit {}):\n{}\n",
               first.exit_code == 0 ? "accepted it" : "refused it for another reason",
               first.exit_code, first.exit_code == 0 ? first.output : error);

  // 2. The workaround: the helper is a generator, and its caller yields from it.
  std::vector<std::string> fixed = base;
  fixed.insert(fixed.end(), {"-DLAB_FIXED", source.string(), "-o", program.string()});
  fmt::print("2. The workaround: announce() becomes a generator, and my_coro() passes its\n"
             "   suspensions up with co_yield lab::elements_of(announce(i)) (Python: yield from).\n"
             "  {}\n",
             shown(fixed));
  std::fflush(stdout);
  const finished_program built = run_to_end(fixed);
  if (built.exit_code != 0) {
    fmt::print("Unexpected: the workaround did not compile:\n{}", built.output);
    return 1;
  }
  const finished_program ran = run_to_end({program.string()});
  std::string expected;
  for (int i = 1; i <= 3; ++i) expected += fmt::format("coro1 {}\ncoro2 {}\n", i, i);
  fmt::print("It compiles. Two of them, resumed round robin, print:\n");
  std::istringstream lines(ran.output);
  std::string line;
  while (std::getline(lines, line)) fmt::print("  {}\n", line);
  const bool in_turn = ran.exit_code == 0 && ran.output == expected;
  if (in_turn)
    fmt::print("Each step of my_coro() ran into announce() and stopped at its co_yield: the wait\n"
               "is in the helper now, because the helper is a coroutine too. Every function on\n"
               "the way to a wait must be one. Green threads (next lesson) lift this limit.\n");
  else
    fmt::print("Unexpected: the order above is not coro1 1, coro2 1, coro1 2, ... (exit {}).\n",
               ran.exit_code);
  report_metric("helper_suspend_refused", refused ? 1 : 0, "bool");
  return refused && in_turn ? 0 : 1;
}

const registration generator_limit_demo{
    {.name = "coro.limit",
     .summary = "a plain function cannot suspend the generator that calls it; yield from it instead",
     .params = {param::flag("full", false)},
     .run = generator_limit}};

}  // namespace
}  // namespace lab::demos
