// The Gradescope report (grade --format gradescope), from made-up results:
// nothing is built or run.
#include "gradescope_report.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

// A course of two exercises: "primes" with three stages, "bank" with one.
lab::course two_exercises() {
  lab::course c;
  lab::exercise primes;
  primes.name = "primes";
  primes.stages = {{1, "threads"}, {2, "a pool"}, {3, "processes"}};
  lab::exercise bank;
  bank.name = "bank";
  bank.stages = {{1, ""}};
  c.exercises = {primes, bank};
  return c;
}

lab::check_result check(const std::string& name, bool passed, const std::string& message = "") {
  lab::check_result result;
  result.name = name;
  result.passed = passed;
  result.message = message;
  result.seconds = 0.5;
  return result;
}

lab::stage_result stage(int number, std::vector<lab::check_result> checks) {
  lab::stage_result result;
  result.number = number;
  result.checks = std::move(checks);
  return result;
}

// primes: stage 1 passes, stage 2 fails one check, stage 3 is an untouched stub.
lab::exercise_result primes_result() {
  lab::exercise_result r;
  r.exercise = "primes";
  r.build.ok = true;
  r.seed = 42;
  r.stages.push_back(stage(1, {check("finds the primes below 50", true)}));
  r.stages.push_back(stage(2, {check("finds the primes below 50", true),
                               check("counts every number once", false,
                                     "7 was tested twice\nby two workers")}));
  auto todo = check("forks its workers", false, "not done yet: stage 3 (exercises/primes.cpp:9)");
  todo.todo = true;
  r.stages.push_back(stage(3, {todo}));
  return r;
}

const nlohmann::json* test_named(const nlohmann::json& report, const std::string& name) {
  for (const auto& test : report["tests"])
    if (test["name"] == name) return &test;
  return nullptr;
}

}  // namespace

TEST_CASE("the gradescope report has a test worth one point for every stage of every exercise") {
  lab::exercise_result bank;
  bank.exercise = "bank";
  bank.build.ok = true;
  bank.stages.push_back(stage(1, {check("moves money", true)}));
  const auto report = lab::grade_gradescope(two_exercises(), {primes_result(), bank});
  REQUIRE(report["tests"].size() == 4);
  CHECK(report["score"] == 2);
  int passed = 0;
  for (const auto& test : report["tests"]) {
    CHECK(test["max_score"] == 1);
    CHECK(test["score"] == (test["status"] == "passed" ? 1 : 0));
    passed += test["status"] == "passed" ? 1 : 0;
  }
  CHECK(passed == 2);
  CHECK(report["tests"][0]["name"] == "primes, stage 1: threads");
  CHECK(report["tests"][0]["number"] == "1.1");
  CHECK(report["tests"][3]["name"] == "bank, stage 1");
  CHECK(report["tests"][3]["number"] == "2.1");
  CHECK(report["output"].get<std::string>().find("2 of 4 stages pass") != std::string::npos);
  CHECK(report["extra_data"]["seed"] == 42);
}

TEST_CASE("a stage's gradescope test lists its checks with each failure's whole message") {
  const auto report = lab::grade_gradescope(two_exercises(), {primes_result()});
  const auto* failed = test_named(report, "primes, stage 2: a pool");
  REQUIRE(failed != nullptr);
  CHECK((*failed)["status"] == "failed");
  CHECK((*failed)["output"] ==
        "✔ finds the primes below 50\n"
        "✘ counts every number once — 7 was tested twice\n    by two workers\n");
  const auto* stub = test_named(report, "primes, stage 3: processes");
  REQUIRE(stub != nullptr);
  CHECK((*stub)["output"] ==
        "Not started: not done yet: stage 3 (exercises/primes.cpp:9)\n✘ forks its workers\n");
}

TEST_CASE("code that did not compile fails every stage and shows the compiler once") {
  lab::exercise_result r;
  r.exercise = "primes";
  r.build.summary = "exercises/primes.cpp does not compile: 1 error";
  r.build.diagnostics = "exercises/primes.cpp:4:3: error: expected ';'";
  const auto report = lab::grade_gradescope(two_exercises(), {r});
  CHECK(report["score"] == 0);
  const std::string first = report["tests"][0]["output"];
  CHECK(first.find("exercises/primes.cpp:4:3: error") != std::string::npos);
  const std::string second = report["tests"][1]["output"];
  CHECK(second.find("see stage 1") != std::string::npos);
  CHECK(second.find("error:") == std::string::npos);
}

TEST_CASE("checks that did not build are the course's fault in the gradescope report") {
  lab::exercise_result r;
  r.exercise = "primes";
  r.build.course_bug = true;
  r.build.summary = "checks/primes/check.cpp does not compile";
  const auto report = lab::grade_gradescope(two_exercises(), {r});
  CHECK(report["tests"][0]["output"].get<std::string>().find("not your code's fault") !=
        std::string::npos);
}

TEST_CASE("a stage the machine was too busy to decide says so and is not called wrong code") {
  lab::exercise_result r = primes_result();
  auto busy = check("finds the primes below 50", false, "the machine was too busy to decide");
  busy.undecided = true;
  r.stages[0] = stage(1, {busy});
  const auto report = lab::grade_gradescope(two_exercises(), {r});
  const std::string output = report["tests"][0]["output"];
  CHECK(report["tests"][0]["score"] == 0);
  CHECK(output.find("too busy to decide this stage; this is not a verdict on your code") !=
        std::string::npos);
  CHECK(report["extra_data"]["undecided_stages"] == 1);
  CHECK(report["output"].get<std::string>().find("too busy to decide 1 stage:") !=
        std::string::npos);
}

TEST_CASE("an exercise grading never reached still has its tests at no points") {
  const auto report = lab::grade_gradescope(two_exercises(), {primes_result()});
  const auto* bank = test_named(report, "bank, stage 1");
  REQUIRE(bank != nullptr);
  CHECK((*bank)["score"] == 0);
  CHECK((*bank)["output"] == "Not graded: grading stopped before this exercise.\n");
}
