// End-to-end: the coro.limit demo compiles the helper that tries to suspend
// its caller (refused, at the co_yield's line) and the workaround that
// yields from it (runs in the lesson's round-robin order).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "lab_process.hpp"

using lab_test::run_lab;

namespace {

// The line of suspend_in_helper.cpp with the plain helper's co_yield.
int helper_yield_line() {
  std::istringstream source(
      lab_test::read_text(lab_test::repository() / "lab/demos/programs/suspend_in_helper.cpp"));
  std::string line;
  bool in_plain_helper = false;
  for (int number = 1; std::getline(source, line); ++number) {
    if (line.find("void announce(int i)") != std::string::npos) in_plain_helper = true;
    if (in_plain_helper && line.find("co_yield i;") != std::string::npos) return number;
  }
  return -1;
}

}  // namespace

TEST_CASE("coro.limit shows the compiler refusing a co_yield in a plain helper at its line") {
  const auto run = run_lab({"demo", "coro.limit"}, {}, std::chrono::seconds(120));
  CHECK(run.exit_code == 0);
  REQUIRE(helper_yield_line() > 0);
  CHECK(run.out.find("suspend_in_helper.cpp:" + std::to_string(helper_yield_line()) +
                     ":3: error:") != std::string::npos);
  CHECK(run.out.find("The compiler refuses it") != std::string::npos);
}

TEST_CASE("coro.limit runs the yield-from workaround in round-robin order") {
  const auto run = run_lab({"demo", "coro.limit"}, {}, std::chrono::seconds(120));
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("  coro1 1\n  coro2 1\n  coro1 2\n  coro2 2\n  coro1 3\n  coro2 3\n") !=
        std::string::npos);
  CHECK(run.out.find("Unexpected") == std::string::npos);
}

// More sleeping greenlets than the kernel's mapping limit allows (two
// mappings per stack: the stack and its guard page): the demo runs as many
// as fit and says why, or, where the limit is raised, all of them.
TEST_CASE("green.switch puts to sleep as many greenlets as the mapping limit allows and says so") {
  long limit = 0;
  std::ifstream("/proc/sys/vm/max_map_count") >> limit;
  REQUIRE(limit > 0);
  const auto run = run_lab({"demo", "green.switch", "switches=10000", "greenlets=100000",
                            "repeats=1", "python=0"},
                           {}, std::chrono::seconds(300));
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  // Under ThreadSanitizer (the tsan preset) the demo holds fewer, and says why.
  const bool tsan = run.out.find("under ThreadSanitizer") != std::string::npos;
  if (limit < 2 * 100'000 + 1'000 || tsan) {
    CHECK(run.out.find("100000 were asked for") != std::string::npos);
    CHECK((run.out.find("vm.max_map_count") != std::string::npos || tsan));
  } else {
    CHECK(run.out.find("100000 greenlets asleep at once") != std::string::npos);
  }
}
