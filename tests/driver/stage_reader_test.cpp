// Reading a stage from what its check program reported, and resuming after
// a stuck check: made-up runs, nothing compiled.
#include "stage_reader.hpp"

#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <string>
#include <vector>

namespace p = lab::protocol;

namespace {

const std::vector<std::string> three = {"first", "second", "third"};

p::check_end passed(const std::string& name) {
  p::check_end end;
  end.check = name;
  end.passed = true;
  return end;
}

p::check_end failed(const std::string& name, const std::string& why) {
  p::check_end end;
  end.check = name;
  end.message = why;
  return end;
}

// A run that exited with `code` after reporting `events`.
lab::run_result exited(std::vector<p::event> events, int code = 0) {
  lab::run_result run;
  run.outcome = lab::run_outcome::exited;
  run.exit_code = code;
  run.events = std::move(events);
  run.profile.timeout = std::chrono::seconds(8);
  return run;
}

// Every check of `names` started and passed, and the run ended.
std::vector<p::event> all_pass(const std::vector<std::string>& names) {
  std::vector<p::event> events;
  for (const auto& name : names) {
    events.push_back(p::check_start{name});
    events.push_back(passed(name));
  }
  events.push_back(p::run_end{static_cast<int>(names.size()), 0});
  return events;
}

lab::stage_result read(const lab::run_result& run) {
  return lab::read_stage(three, run, 1, "the stage").stage;
}

}  // namespace

TEST_CASE("a stage whose every check started and passed and ended passes") {
  const auto stage = read(exited(all_pass(three)));
  CHECK(stage.passed());
  CHECK(stage.problem.empty());
  REQUIRE(stage.checks.size() == 3);
  CHECK(stage.checks[2].name == "third");
}

TEST_CASE("a failed check fails the stage with its own message") {
  std::vector<p::event> events = {p::check_start{"first"},  passed("first"),
                                  p::check_start{"second"}, failed("second", "got 4, expected 5"),
                                  p::check_start{"third"},  passed("third"),
                                  p::run_end{3, 1}};
  const auto stage = read(exited(events, 1));
  CHECK_FALSE(stage.passed());
  CHECK(stage.problem.empty());
  CHECK(stage.checks[1].message == "got 4, expected 5");
}

TEST_CASE("a program that exits inside a check fails it and says exit() was called") {
  std::vector<p::event> events = {p::check_start{"first"}};
  const auto stage = read(exited(events, 0));
  CHECK_FALSE(stage.passed());
  CHECK(stage.checks[0].message.find("exit()") != std::string::npos);
  CHECK(stage.checks[1].not_run);
  CHECK(stage.checks[2].not_run);
}

TEST_CASE("every check reported but no end of the run is not a pass") {
  auto events = all_pass(three);
  events.pop_back();  // the run_end
  const auto stage = read(exited(events, 0));
  CHECK_FALSE(stage.passed());
  CHECK(stage.problem.find("exit()") != std::string::npos);
}

TEST_CASE("lines that did not come from the harness fail a stage that otherwise passes") {
  auto run = exited(all_pass(three));
  run.rejected.forged = 2;
  const auto stage = read(run);
  CHECK_FALSE(stage.passed());
  CHECK(stage.problem.find("2 lines that did not come from the check harness") !=
        std::string::npos);
  CHECK(stage.checks.back().name == "only the check harness reports results");
  CHECK_FALSE(stage.checks.back().passed);
}

TEST_CASE("an end without its start or a check ended twice is out of order") {
  SUBCASE("an end for a check that never started") {
    std::vector<p::event> events = {passed("first"), passed("second"), passed("third"),
                                    p::run_end{3, 0}};
    const auto stage = read(exited(events));
    CHECK_FALSE(stage.passed());
    CHECK(stage.problem.find("out of order") != std::string::npos);
  }
  SUBCASE("a second end for a finished check") {
    auto events = all_pass(three);
    events.insert(events.begin() + 2, passed("first"));
    const auto stage = read(exited(events));
    CHECK_FALSE(stage.passed());
    CHECK(stage.problem.find("out of order") != std::string::npos);
  }
  SUBCASE("a check that was not asked for") {
    auto events = all_pass(three);
    events.insert(events.begin(), p::check_start{"not listed"});
    const auto stage = read(exited(events));
    CHECK_FALSE(stage.passed());
  }
}

TEST_CASE("a timed-out check is blamed on the timeout and the rest can resume after it") {
  lab::run_result run =
      exited({p::check_start{"first"}, passed("first"), p::check_start{"second"}});
  run.outcome = lab::run_outcome::timed_out;
  const auto attempt = lab::read_stage(three, run, 1, "");
  CHECK(attempt.timed_out);
  CHECK(attempt.resume_from == 2);
  CHECK(attempt.stage.checks[0].passed);
  CHECK(attempt.stage.checks[1].message.find("timed out after 8 s") != std::string::npos);
  CHECK(attempt.stage.checks[2].not_run);
}

TEST_CASE("a crash at a stub's todo() is not resumed and names the todo") {
  lab::run_result run =
      exited({p::check_start{"first"}, p::check_crash{"first", 6, "not done yet: x"}});
  run.outcome = lab::run_outcome::signaled;
  run.term_signal = 6;
  const auto attempt = lab::read_stage(three, run, 1, "");
  CHECK(attempt.resume_from == 3);
  CHECK(attempt.stage.checks[0].todo);
  CHECK(attempt.stage.checks[0].message == "not done yet: x");
  CHECK(attempt.stage.not_started());
}

TEST_CASE("a stage resumes after a crash and gives every later check its own verdict") {
  std::vector<std::vector<std::string>> asked;
  const lab::stage_runner runner = [&](const std::vector<std::string>& selected, bool all) {
    asked.push_back(selected);
    if (all) {  // the first run crashes in "second"
      lab::run_result run =
          exited({p::check_start{"first"}, passed("first"), p::check_start{"second"}});
      run.outcome = lab::run_outcome::signaled;
      run.term_signal = 11;
      return run;
    }
    return exited(all_pass(selected));
  };
  const auto stage = lab::run_stage(three, 1, "", runner, nullptr);
  REQUIRE(asked.size() == 2);
  CHECK(asked[1] == std::vector<std::string>{"third"});
  REQUIRE(stage.checks.size() == 3);
  CHECK(stage.checks[0].passed);
  CHECK(stage.checks[1].message.find("crashed: SIGSEGV") != std::string::npos);
  CHECK(stage.checks[2].passed);
}

TEST_CASE("after three timeouts a stage leaves the rest unrun and says why") {
  const std::vector<std::string> five = {"a", "b", "c", "d", "e"};
  int runs = 0;
  const lab::stage_runner runner = [&](const std::vector<std::string>& selected, bool) {
    ++runs;
    lab::run_result run = exited({p::check_start{selected.front()}});
    run.outcome = lab::run_outcome::timed_out;
    return run;
  };
  const auto stage = lab::run_stage(five, 1, "", runner, nullptr);
  CHECK(runs == lab::timeouts_per_stage);
  REQUIRE(stage.checks.size() == 5);
  CHECK(stage.checks[3].not_run);
  CHECK(stage.checks[3].message.find("timed out already") != std::string::npos);
}

TEST_CASE("names a doctest filter cannot select are not resumed") {
  const std::vector<std::string> names = {"a, b", "c"};
  int runs = 0;
  const lab::stage_runner runner = [&](const std::vector<std::string>&, bool) {
    ++runs;
    lab::run_result run = exited({p::check_start{"a, b"}});
    run.outcome = lab::run_outcome::signaled;
    run.term_signal = 11;
    return run;
  };
  const auto stage = lab::run_stage(names, 1, "", runner, nullptr);
  CHECK(runs == 1);
  CHECK(stage.checks[1].not_run);
}

TEST_CASE("a stage stopped by Ctrl-C is interrupted and neither passes nor fails") {
  std::atomic<bool> cancel{false};
  const lab::stage_runner runner = [&](const std::vector<std::string>&, bool) {
    cancel.store(true);  // Ctrl-C arrives while the program runs
    lab::run_result run = exited({p::check_start{"first"}});
    run.outcome = lab::run_outcome::interrupted;
    return run;
  };
  const auto stage = lab::run_stage(three, 1, "", runner, &cancel);
  CHECK(stage.interrupted);
  CHECK_FALSE(stage.passed());
  CHECK(stage.checks[0].message == "interrupted");
}

TEST_CASE("a run that hit the task limit fails a check that names the limit") {
  auto run = exited(all_pass(three));
  run.task_limit_hit = true;
  run.profile.max_tasks = 40;
  const auto stage = read(run);
  CHECK_FALSE(stage.passed());
  CHECK(stage.checks.back().name == "stays within the limit of processes and threads");
  CHECK(stage.checks.back().message.find("limit of 40 processes and threads") != std::string::npos);
}

TEST_CASE("a forked child that returned is named at the first check it disturbed") {
  // One child returned during "first"; the copy of the harness it became
  // went on and disturbed "third" too. The mistake is in the first.
  std::vector<p::event> events = {p::check_start{"first"}, p::forked_child_returned{"first"},
                                  passed("first"),         p::check_start{"second"},
                                  passed("second"),        p::check_start{"third"},
                                  p::forked_child_returned{"third"}, passed("third"),
                                  p::run_end{3, 0}};
  const auto stage = read(exited(std::move(events)));
  CHECK_FALSE(stage.passed());
  REQUIRE(stage.checks.size() == 4);
  CHECK(stage.checks.back().name == "forked children end with _exit() instead of returning");
  CHECK(stage.checks.back().message ==
        "a child process returned into the checks during \"first\": end children with _exit()");
}

TEST_CASE("each check keeps what the program printed during it and the stage what came outside") {
  auto run = exited(all_pass(three));
  run.output_by_check["second"] = {.out = "debug line\n", .err = "", .complete = true};
  run.output_by_check["third"] = {.out = "", .err = "half", .complete = false};
  run.outside = {.out = "from a static initialiser\n", .err = "", .complete = true};
  const auto stage = read(run);
  REQUIRE(stage.checks.size() == 3);
  CHECK(stage.checks[0].printed.empty());
  CHECK(stage.checks[1].printed.out == "debug line\n");
  CHECK(stage.checks[2].printed.err == "half");
  CHECK_FALSE(stage.checks[2].printed.complete);
  CHECK(stage.printed_outside.out == "from a static initialiser\n");
}

TEST_CASE("a crashed check shows the last lines it printed itself and not an earlier check's") {
  auto run = exited({p::check_start{"first"}, passed("first"), p::check_start{"second"}});
  run.outcome = lab::run_outcome::signaled;
  run.term_signal = SIGSEGV;
  run.out =
      "first's line without a newline"
      "second's last words\n";
  run.output_by_check["first"] = {
      .out = "first's line without a newline", .err = "", .complete = true};
  run.output_by_check["second"] = {.out = "second's last words\n", .err = "", .complete = true};
  const auto stage = read(run);
  REQUIRE(stage.checks.size() == 3);
  CHECK(stage.checks[1].output == "second's last words\n");
}

TEST_CASE("a check that stopped without printing a word shows the whole run's last lines") {
  auto run = exited({p::check_start{"first"}});
  run.outcome = lab::run_outcome::signaled;
  run.term_signal = SIGABRT;
  run.err = "printed before any check\n";
  const auto stage = read(run);
  REQUIRE_FALSE(stage.checks.empty());
  CHECK(stage.checks[0].output == "printed before any check\n");
}
