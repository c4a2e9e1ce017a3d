// The judgement of a demo's claim, fed with figures: seen or not, and the
// causes named from the machine's figures. No timing here: the figures are
// the ones a demo could have measured.
#include "verdict.hpp"

#include <doctest/doctest.h>

using lab::demos::claim;
using lab::demos::expect;
using lab::demos::load_figures;

namespace {

// A quiet 2-core machine whose cores this process may all use.
load_figures quiet_two_cores() {
  return {.machine_cores = 2, .usable_cores = 2, .load_average = 0.3, .others_busy = 0.05};
}

// The same machine with other programs on almost both cores.
load_figures busy_two_cores() {
  return {.machine_cores = 2, .usable_cores = 2, .load_average = 4.2, .others_busy = 1.8};
}

claim two_threads_speedup(double value) {
  return {.figure = "2 threads against 1",
          .value = value,
          .direction = expect::at_least,
          .bound = 1.5,
          .parallel = 2,
          .lesson = "Threads without the GIL run side by side."};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A described verdict with its wrapped lines joined again.
std::string unwrapped(std::string text) {
  for (auto at = text.find("\n  "); at != std::string::npos; at = text.find("\n  ", at))
    text.replace(at, 3, " ");
  return text;
}

}  // namespace

TEST_CASE("a speedup at or above its bound is seen and the lesson's conclusion is said") {
  const auto machine = quiet_two_cores();
  const auto c = two_threads_speedup(1.93);
  const auto v = judge(c, machine);
  CHECK(v.shown);
  CHECK(v.causes.empty());
  const auto text = describe(c, v, machine);
  CHECK(text ==
        "Seen here: 2 threads against 1: 1.93x (the lesson expects at least 1.50x).\n"
        "  Threads without the GIL run side by side.\n");
}

TEST_CASE("a speedup below its bound on a busy machine names the other programs") {
  const auto machine = busy_two_cores();
  const auto c = two_threads_speedup(1.02);
  const auto v = judge(c, machine);
  CHECK_FALSE(v.shown);
  CHECK(v.machine_to_blame);
  REQUIRE(v.causes.size() == 1);
  CHECK(contains(v.causes[0], "other programs kept 1.8 of the 2 cores"));
  CHECK(contains(v.causes[0], "load average 4.20"));
  CHECK(contains(v.causes[0], "nproc 2"));
  const auto text = describe(c, v, machine);
  CHECK(text.rfind("Not seen here: 2 threads against 1: 1.02x (the lesson expects at least "
                   "1.50x).\n  Why: other programs kept",
                   0) == 0);
  for (auto line = text.find('\n'); line + 1 < text.size(); line = text.find('\n', line + 1))
    CHECK(text.find('\n', line + 1) - line - 1 <= 95);  // wrapped for a terminal
  CHECK(contains(unwrapped(text), "Run it again when the machine is quieter."));
  CHECK_FALSE(contains(text, "side by side"));
}

TEST_CASE("a speedup below its bound on a single usable core names the affinity mask") {
  const load_figures one_core{
      .machine_cores = 4, .usable_cores = 1, .load_average = 0.1, .others_busy = 0};
  const auto v = judge(two_threads_speedup(1.0), one_core);
  CHECK_FALSE(v.shown);
  REQUIRE(v.causes.size() == 1);
  CHECK(contains(v.causes[0], "may use only 1 core (nproc 1, 4 on the machine)"));
}

TEST_CASE("a figure that misses on a quiet machine says that nothing explains it") {
  const auto machine = quiet_two_cores();
  const auto c = two_threads_speedup(1.1);
  const auto v = judge(c, machine);
  CHECK_FALSE(v.shown);
  CHECK(v.causes.empty());
  const auto text = describe(c, v, machine);
  CHECK(contains(unwrapped(text), "Why: nothing in the machine's figures explains it (nproc 2"));
  CHECK_FALSE(contains(text, "quieter"));
  CHECK_FALSE(contains(text, "side by side"));
}

TEST_CASE("a count that needs no parallelism never blames a busy machine") {
  claim c{.figure = "trials where both withdrawals succeeded",
          .value = 0,
          .bound = 1,
          .unit = "",
          .parallel = 1,
          .timed = false};
  const auto v = judge(c, busy_two_cores());
  CHECK_FALSE(v.shown);
  CHECK(v.causes.empty());
  CHECK_FALSE(v.machine_to_blame);
}

TEST_CASE("a timing that needs no parallelism names a busy machine as a disturbance") {
  claim c = two_threads_speedup(1.47);
  c.direction = expect::at_most;
  c.bound = lab::demos::no_speedup_bound;
  c.parallel = 1;
  const auto busy = judge(c, busy_two_cores());
  CHECK_FALSE(busy.shown);
  REQUIRE(busy.causes.size() == 1);
  CHECK(contains(busy.causes[0], "other programs kept 1.8 of the 2 cores"));
  CHECK(contains(busy.causes[0], "which disturbs any timing"));
  CHECK(busy.machine_to_blame);
  CHECK(judge(c, quiet_two_cores()).causes.empty());  // a quiet machine explains nothing
}

TEST_CASE("an at most claim is seen when its figure stays at or under the bound") {
  claim c = two_threads_speedup(0.97);
  c.direction = expect::at_most;
  c.bound = lab::demos::no_speedup_bound;
  CHECK(judge(c, busy_two_cores()).shown);
  c.value = 1.25;
  CHECK(judge(c, busy_two_cores()).shown);
  c.value = 1.26;
  CHECK_FALSE(judge(c, busy_two_cores()).shown);
}

TEST_CASE("a between claim is seen only inside its two bounds") {
  claim c{.figure = "median wait at 5 ms in intervals",
          .value = 1.02,
          .direction = expect::between,
          .bound = 1.5,
          .low = 0.5,
          .parallel = 2};
  CHECK(judge(c, quiet_two_cores()).shown);
  CHECK(describe(c, judge(c, quiet_two_cores()), quiet_two_cores()) ==
        "Seen here: median wait at 5 ms in intervals: 1.02x (the lesson expects between 0.50x and "
        "1.50x).\n");
  c.value = 0.0;  // the GIL was free: nobody held it while the waiter asked
  CHECK_FALSE(judge(c, quiet_two_cores()).shown);
  c.value = 1.7;
  CHECK_FALSE(judge(c, busy_two_cores()).shown);
  CHECK(judge(c, busy_two_cores()).machine_to_blame);
}

TEST_CASE("the verdict compares the figures as they are printed") {
  // 1.496 prints as 1.50x: a reader sees it meet the bound, and so it does.
  CHECK(judge(two_threads_speedup(1.496), quiet_two_cores()).shown);
  CHECK_FALSE(judge(two_threads_speedup(1.494), quiet_two_cores()).shown);
}

TEST_CASE("a known cause of the demo comes before the machine's") {
  claim c = two_threads_speedup(0);
  c.known_cause = "no delay between the check and the act";
  const auto v = judge(c, busy_two_cores());
  REQUIRE(v.causes.size() == 2);
  CHECK(v.causes[0] == "no delay between the check and the act");
  CHECK(contains(v.causes[1], "other programs"));
  const auto quiet = judge(c, quiet_two_cores());
  CHECK(quiet.causes == std::vector<std::string>{"no delay between the check and the act"});
  CHECK_FALSE(quiet.machine_to_blame);
  CHECK(contains(describe(c, quiet, quiet_two_cores()),
                 "Why: no delay between the check and the act.\n"));
}

TEST_CASE("other programs on a few of many cores are no cause for a two thread effect") {
  const load_figures big{
      .machine_cores = 16, .usable_cores = 16, .load_average = 3, .others_busy = 3};
  CHECK(lab::demos::machine_causes(big, 2).empty());
  CHECK(lab::demos::machine_causes(big, 16).size() == 1);  // 16 threads wanted 16 free cores
}

TEST_CASE("half a core of other programs is the least worth naming") {
  auto machine = quiet_two_cores();
  machine.others_busy = 0.49;
  CHECK(lab::demos::machine_causes(machine, 2).empty());
  machine.others_busy = 0.5;
  CHECK(lab::demos::machine_causes(machine, 2).size() == 1);
}

TEST_CASE("the load average stands in when the time other programs took is unknown") {
  load_figures machine{
      .machine_cores = 2, .usable_cores = 2, .load_average = 2.5, .others_busy = -1};
  const auto causes = lab::demos::machine_causes(machine, 2);
  REQUIRE(causes.size() == 1);
  CHECK(contains(causes[0], "the load average was 2.50 over the last minute on 2 cores"));
  machine.load_average = 1.2;
  CHECK(lab::demos::machine_causes(machine, 2).empty());
}

TEST_CASE("speedup bounds grow with the usable cores and never fall below one and a half") {
  const load_figures two{.machine_cores = 2, .usable_cores = 2};
  const load_figures eight{.machine_cores = 8, .usable_cores = 8};
  const load_figures one{.machine_cores = 1, .usable_cores = 1};
  CHECK(lab::demos::speedup_bound(2, two) == doctest::Approx(1.5));
  CHECK(lab::demos::speedup_bound(5, two) == doctest::Approx(1.5));  // 2 cores: 2x at most
  CHECK(lab::demos::speedup_bound(4, eight) == doctest::Approx(2.5));
  CHECK(lab::demos::speedup_bound(16, eight) == doctest::Approx(4.5));
  CHECK(lab::demos::speedup_bound(4, one) == doctest::Approx(1.5));
}

TEST_CASE("the cores note speaks only when the affinity mask holds the workers back") {
  const load_figures all{.machine_cores = 4, .usable_cores = 4};
  const load_figures masked{.machine_cores = 4, .usable_cores = 1};
  CHECK(lab::demos::cores_note(all, 8).empty());
  CHECK(lab::demos::cores_note(masked, 1).empty());
  CHECK(contains(lab::demos::cores_note(masked, 2),
                 "this process may use 1 of the machine's 4 cores"));
  const load_figures two_of_four{.machine_cores = 4, .usable_cores = 2};
  CHECK(lab::demos::cores_note(two_of_four, 2).empty());  // 2 workers, 2 cores: all ran at once
  CHECK_FALSE(lab::demos::cores_note(two_of_four, 5).empty());
}

TEST_CASE("counts are printed without decimals and milliseconds with a space") {
  claim count{
      .figure = "results ready", .value = 3, .direction = expect::at_most, .bound = 3, .unit = ""};
  CHECK(describe(count, judge(count, quiet_two_cores()), quiet_two_cores()) ==
        "Seen here: results ready: 3 (the lesson expects at most 3).\n");
  claim wait{.figure = "median wait",
             .value = 5.2,
             .direction = expect::at_most,
             .bound = 7.5,
             .unit = "ms"};
  CHECK(contains(describe(wait, judge(wait, quiet_two_cores()), quiet_two_cores()),
                 "median wait: 5.200 ms (the lesson expects at most 7.500 ms)"));
}

TEST_CASE("a lesson of several lines is indented under its verdict") {
  auto c = two_threads_speedup(2);
  c.lesson = "line one\nline two";
  CHECK(describe(c, judge(c, quiet_two_cores()), quiet_two_cores()) ==
        "Seen here: 2 threads against 1: 2.00x (the lesson expects at least 1.50x).\n"
        "  line one\n  line two\n");
}

TEST_CASE("timing warnings name a single core once and say that no worker count can be faster") {
  const load_figures one_core{
      .machine_cores = 2, .usable_cores = 1, .load_average = 0.2, .others_busy = 0};
  const auto warnings = lab::demos::timing_warnings(one_core, 2);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] ==
        "Only 1 core was there for the workers (nproc 1, 2 on the machine): they took turns, so "
        "no number of them can be faster than one.");
}

TEST_CASE("timing warnings on a busy machine ask for a quieter one") {
  const auto warnings = lab::demos::timing_warnings(busy_two_cores(), 5);
  REQUIRE(warnings.size() == 1);
  CHECK(contains(warnings[0],
                 "The speedups may be lower than your code can reach: other programs "
                 "kept 1.8 of the 2 cores"));
  CHECK(contains(warnings[0], "Time it again when the machine is quieter."));
  CHECK(lab::demos::timing_warnings(quiet_two_cores(), 5).empty());
}

TEST_CASE("timing warnings note an affinity mask that holds back the workers") {
  const load_figures masked{
      .machine_cores = 8, .usable_cores = 2, .load_average = 0.2, .others_busy = 0};
  const auto warnings = lab::demos::timing_warnings(masked, 4);
  REQUIRE(warnings.size() == 1);
  CHECK(contains(warnings[0], "This process may use 2 of the machine's 8 cores"));
  CHECK(lab::demos::timing_warnings(masked, 2).empty());
}
