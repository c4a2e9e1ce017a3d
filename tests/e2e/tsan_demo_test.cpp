// End-to-end: the race.tsan demo compiles the racy counter with
// ThreadSanitizer and shows the report pointing at the racing line; the
// atomic version gets no report. TSan finds this race on every run: it
// watches the accesses, whatever the interleaving.
#include <doctest/doctest.h>

#include <sstream>

#include "lab_process.hpp"

using lab_test::run_lab;

namespace {

// The line of racy_counter.cpp that does the unguarded read-add-write.
int racing_line() {
  std::istringstream source(
      lab_test::read_text(lab_test::repository() / "lab/demos/programs/racy_counter.cpp"));
  std::string line;
  for (int number = 1; std::getline(source, line); ++number)
    if (line.find("counter = counter + 1;") != std::string::npos) return number;
  return -1;
}

}  // namespace

TEST_CASE("race.tsan shows ThreadSanitizer's report naming the racing line") {
  const auto run = run_lab({"demo", "race.tsan"}, {}, std::chrono::seconds(120));
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("-fsanitize=thread") != std::string::npos);
  CHECK(run.out.find("WARNING: ThreadSanitizer: data race") != std::string::npos);
  REQUIRE(racing_line() > 0);
  CHECK(run.out.find("racy_counter.cpp:" + std::to_string(racing_line())) != std::string::npos);
  CHECK(run.out.find("ThreadSanitizer: data race reported.") != std::string::npos);
}

TEST_CASE("race.tsan with the atomic counter gets no report") {
  const auto run = run_lab({"demo", "race.tsan", "fixed=1"}, {}, std::chrono::seconds(120));
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("WARNING: ThreadSanitizer") == std::string::npos);
  CHECK(run.out.find("ThreadSanitizer: no data race reported") != std::string::npos);
  CHECK(run.out.find("counter = 2000000") != std::string::npos);
}
