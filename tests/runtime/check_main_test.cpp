// The check harness (lab/runtime/src/check_main.cpp and its private
// headers), run the way lab runs it: tests/runtime/programs/check_probe.cpp
// is a check file linked with the harness, started with a result channel,
// and these tests read what it reported there.
#include <doctest/doctest.h>
#include <signal.h>
#include <lab/protocol.hpp>

#include <string>
#include <vector>

#include "channel_run.hpp"

namespace protocol = lab::protocol;
using lab::testing::assignment;
using lab::testing::channel_run;
using lab::testing::events_of;

namespace {

const std::string harness_secret = "c0ffee-harness-secret";

// Runs the probe's checks whose names match `filter` in checks mode, stage 2.
channel_run run_checks(const std::string& filter, std::vector<std::string> env = {}) {
  env.push_back(assignment(protocol::env::check_stage, "2"));
  return lab::testing::run_with_channel(LAB_CHECK_PROBE, {"-tc=" + filter}, env, harness_secret);
}

}  // namespace

TEST_CASE("a check program reports each check's start and end and then run_end") {
  const auto run = run_checks("passes,fails with a message");
  INFO(run.output);
  CHECK(run.exit_code == 1);  // a check failed
  CHECK(run.rejected.total() == 0);
  REQUIRE(run.events.size() == 5);
  CHECK(run.events[0] == protocol::event(protocol::check_start{"passes"}));
  const auto ends = events_of<protocol::check_end>(run);
  REQUIRE(ends.size() == 2);
  CHECK(ends[0].check == "passes");
  CHECK(ends[0].passed);
  CHECK(ends[0].message.empty());
  CHECK(run.events[2] == protocol::event(protocol::check_start{"fails with a message"}));
  CHECK(ends[1].check == "fails with a message");
  CHECK_FALSE(ends[1].passed);
  CHECK_FALSE(ends[1].todo);
  CHECK(ends[1].message == "two == 3 is 2 == 3");
  CHECK(ends[1].note == "a figure worth showing");
  CHECK(run.events[4] == protocol::event(protocol::run_end{.checks_run = 2, .checks_failed = 1}));
}

TEST_CASE("a char pointer in a check's message is shown as its text and not as an address") {
  const auto run = run_checks("fails with text behind a char pointer");
  const auto ends = events_of<protocol::check_end>(run);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].message == "the calling thread and workers and a buffer");
}

TEST_CASE("a check that stops at a todo is reported as not started with the todo's message") {
  const auto run = run_checks("stops at a todo");
  const auto ends = events_of<protocol::check_end>(run);
  REQUIRE(ends.size() == 1);
  CHECK_FALSE(ends[0].passed);
  CHECK(ends[0].todo);
  CHECK(ends[0].message.find("not done yet: the stub's work") == 0);
}

TEST_CASE("student code finds no channel in its environment even in static initialisers") {
  const auto run = run_checks("finds no channel in its environment");
  INFO(run.output);
  const auto ends = events_of<protocol::check_end>(run);
  REQUIRE(ends.size() == 1);
  CHECK(ends[0].passed);
  CHECK(ends[0].message == "");
}

TEST_CASE("a check that crashes is reported by the signal handler with its signal and todo") {
  const auto run = run_checks("crashes after a todo");
  INFO(run.output);
  CHECK(run.signal == SIGSEGV);  // it still dies of its signal
  CHECK(run.rejected.total() == 0);
  const auto crashes = events_of<protocol::check_crash>(run);
  REQUIRE(crashes.size() == 1);
  CHECK(crashes[0].check == "crashes after a todo");
  CHECK(crashes[0].signal == SIGSEGV);
  CHECK(crashes[0].todo.find("not done yet: the part before the crash") == 0);
  CHECK(events_of<protocol::check_end>(run).empty());
  CHECK(events_of<protocol::run_end>(run).empty());
}

TEST_CASE("a check that aborts is reported with SIGABRT and no todo") {
  const auto run = run_checks("aborts");
  CHECK(run.signal == SIGABRT);
  const auto crashes = events_of<protocol::check_crash>(run);
  REQUIRE(crashes.size() == 1);
  CHECK(crashes[0] == protocol::check_crash{.check = "aborts", .signal = SIGABRT, .todo = ""});
}

TEST_CASE("a stack overflow in a check is reported from the alternate signal stack") {
  const auto run = run_checks("overflows its stack");
  CHECK(run.signal == SIGSEGV);
  const auto crashes = events_of<protocol::check_crash>(run);
  REQUIRE(crashes.size() == 1);
  CHECK(crashes[0].check == "overflows its stack");
  CHECK(crashes[0].signal == SIGSEGV);
}

TEST_CASE("each check's output is marked with its start and end on both streams") {
  const auto run = run_checks("passes,prints on both streams");
  const auto split = protocol::split_output(run.output);  // stdout and stderr share one pipe
  INFO(split.text);
  CHECK(split.outside.empty());
  REQUIRE(split.checks.size() == 2);
  CHECK(split.checks.at("passes").text.empty());
  CHECK(split.checks.at("passes").ended);
  CHECK(split.checks.at("prints on both streams").text == "on stdout, in two parts\non stderr\n");
  CHECK(split.checks.at("prints on both streams").ended);
}

TEST_CASE("a line printed just before a crash is not lost in the stdio buffer") {
  const auto run = run_checks("prints and then crashes");
  CHECK(run.signal == SIGSEGV);
  const auto split = protocol::split_output(run.output);
  INFO(split.text);
  REQUIRE(split.checks.contains("prints and then crashes"));
  CHECK(split.checks.at("prints and then crashes").text == "its last words\n");
  CHECK_FALSE(split.checks.at("prints and then crashes").ended);
}

TEST_CASE("a forked child that returns into the harness is reported and stopped") {
  const auto run = run_checks("forks a child that returns");
  INFO(run.output);
  const auto returned = events_of<protocol::forked_child_returned>(run);
  REQUIRE(returned.size() == 1);
  CHECK(returned[0].check == "forks a child that returns");
  const auto ends = events_of<protocol::check_end>(run);
  REQUIRE(ends.size() == 1);  // the parent's, not the child's
  CHECK(ends[0].passed);      // the parent saw the child stopped with exit code 70
  CHECK(events_of<protocol::run_end>(run).size() == 1);
}

TEST_CASE("a list request answers with the checks' names and no run_end") {
  const auto run = lab::testing::run_with_channel(
      LAB_CHECK_PROBE, {"--list-test-cases", "-tc=passes,aborts"}, {}, harness_secret);
  REQUIRE(run.events.size() == 1);
  const auto lists = events_of<protocol::check_list>(run);
  REQUIRE(lists.size() == 1);
  CHECK(lists[0].checks == std::vector<std::string>{"passes", "aborts"});
}

TEST_CASE("a doctest run started by student code cannot report through the harness") {
  const auto run = run_checks("runs a doctest context of its own at exit");
  INFO(run.output);
  CHECK(run.output.find("its own run ran passes 1 time(s)") != std::string::npos);
  // Only main's run reports: its one check, then run_end.
  CHECK(run.events.size() == 3);
  CHECK(events_of<protocol::check_start>(run).size() == 1);
  CHECK(events_of<protocol::run_end>(run) ==
        std::vector<protocol::run_end>{{.checks_run = 1, .checks_failed = 0}});
}

TEST_CASE("time mode sends the seconds of each timed run of the stage's body") {
  const auto run = lab::testing::run_with_channel(
      LAB_CHECK_PROBE, {},
      {assignment(protocol::env::check_mode, protocol::mode_time),
       assignment(protocol::env::check_stage, "1"), assignment(protocol::env::time_workers, "2"),
       assignment(protocol::env::time_size, "1000"), assignment(protocol::env::time_repeats, "4"),
       assignment(protocol::env::time_native, "1")},
      harness_secret);
  CHECK(run.exit_code == 0);
  const auto timings = events_of<protocol::timing>(run);
  REQUIRE(timings.size() == 1);
  CHECK(timings[0].stage == 1);
  CHECK(timings[0].workers == 2);
  CHECK(timings[0].size == 1000);
  CHECK(timings[0].native);
  CHECK(timings[0].samples.size() == 4);
}

TEST_CASE("time mode for a stage without a timed body sends a timing error") {
  const auto run =
      lab::testing::run_with_channel(LAB_CHECK_PROBE, {},
                                     {assignment(protocol::env::check_mode, protocol::mode_time),
                                      assignment(protocol::env::check_stage, "5")},
                                     harness_secret);
  CHECK(run.exit_code == 2);
  CHECK(events_of<protocol::timing_error>(run) ==
        std::vector<protocol::timing_error>{{"no timed body for stage 5"}});
}
