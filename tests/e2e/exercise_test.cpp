// End-to-end: `lab exercise primes` and `lab solution primes` on the real
// course, the way a student runs them.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "lab_process.hpp"

using lab_test::run_lab;

TEST_CASE("the primes stub fails each stage at its TODO with a friendly message") {
  const auto run = run_lab({"exercise", "primes", "--no-timings"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("not done yet: stage 1: start `workers` std::threads") != std::string::npos);
  CHECK(run.out.find("not done yet: stage 2:") != std::string::npos);
  CHECK(run.out.find("not done yet: stage 3:") != std::string::npos);
  CHECK(run.out.find("exercises/primes.cpp:") != std::string::npos);
  CHECK(run.out.find("0 of 3 stages pass") != std::string::npos);
}

TEST_CASE("the primes solution passes every check of every stage with ThreadSanitizer included") {
  const auto run = run_lab({"solution", "primes", "--no-timings", "--json"});
  const auto report = lab_test::output_json(run);
  CHECK(run.exit_code == 0);
  CHECK(report["exercise"] == "primes");
  CHECK(report["passed"] == true);
  std::set<std::string> names;
  int race_checks = 0;
  for (const auto& check : report["checks"]) {
    INFO(check["name"], ": ", check["message"]);
    CHECK(check["passed"] == true);
    CHECK(check.contains("message"));
    names.insert(check["name"].get<std::string>());
    if (check["name"] == "has no data race (ThreadSanitizer)") ++race_checks;
  }
  CHECK(race_checks == 2);  // stages 1 and 2 use threads
  CHECK(names.count("tests every number below end exactly once with lab::is_prime") == 1);
  CHECK(names.count("spreads the work over the workers instead of doing it in the caller") == 1);
}

TEST_CASE("--json gives timings per stage and worker count with medians and speedups") {
  const auto run = run_lab({"solution", "primes", "--stage", "3", "--workers", "1,2", "--json"});
  const auto report = lab_test::output_json(run);
  REQUIRE(report["timings"].size() == 2);
  for (const auto& timing : report["timings"]) {
    CHECK(timing["stage"] == 3);
    CHECK(timing["median_s"].get<double>() > 0);
    CHECK(timing["speedup"].get<double>() > 0);
  }
  CHECK(report["timings"][0]["workers"] == 1);
  CHECK(report["timings"][1]["workers"] == 2);
}

TEST_CASE("timings on one usable core warn that the workers could not run at once") {
  const lab_test::on_cpu_zero one_core;
  const auto run = run_lab({"solution", "primes", "--stage", "3", "--workers", "1,2", "--json"});
  const auto report = lab_test::output_json(run);
  CHECK(report["cores"] == 1);
  REQUIRE(report["timings"].size() == 2);
  const auto warnings = report["timing_warnings"].dump();
  INFO(warnings);
  CHECK(warnings.find("Only 1 core was there for the workers (nproc 1") != std::string::npos);
}

TEST_CASE("the timing table prints its warnings under the table") {
  const lab_test::on_cpu_zero one_core;
  const auto run = run_lab({"solution", "primes", "--stage", "3", "--workers", "1,2"});
  CHECK(run.exit_code == 0);
  const auto footer = run.out.find("ideal = min(N, 1 cores).\n");
  REQUIRE(footer != std::string::npos);
  CHECK(run.out.find("  Only 1 core was there for the workers (nproc 1", footer) !=
        std::string::npos);
}

TEST_CASE("an unknown exercise gets one line naming the closest exercise") {
  const auto run = run_lab({"exercise", "prims"});
  CHECK(run.exit_code == 2);
  CHECK(run.err ==
        "lab: no exercise named 'prims'. Did you mean: primes? (lab list shows them all)\n");
}

TEST_CASE("an unknown option gets one line naming the closest option") {
  const auto run = run_lab({"exercise", "primes", "--stag", "2"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("unknown option --stag. Did you mean: --stage?") != std::string::npos);
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
}

TEST_CASE("an unknown command gets one line naming the closest command") {
  const auto run = run_lab({"exercize", "primes"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("unknown command 'exercize'. Did you mean: exercise?") != std::string::npos);
}

TEST_CASE("a stage that does not exist is refused with the valid range") {
  const auto run = run_lab({"exercise", "primes", "--stage", "7"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("primes has stages 1 to 3") != std::string::npos);
}

TEST_CASE("bad worker counts and seeds are usage errors that state the bounds") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"exercise", "primes", "--workers", "0"},
           {"exercise", "primes", "--workers", "1,200"},
           {"exercise", "primes", "--seed", "-1"},
           {"grade", "--seed", "twelve"}}) {
    const auto run = lab_test::run_lab(args);
    INFO(run.err);
    CHECK(run.exit_code == 2);
    CHECK((run.err.find("1 to 128") != std::string::npos ||
           run.err.find("from 0 to 18446744073709551615") != std::string::npos));
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
  }
}

TEST_CASE("a pass of one chosen stage says which stage of how many") {
  const auto run = lab_test::run_lab({"solution", "primes", "--stage", "1", "--no-timings"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("Stage 1 of 3 of primes passes.") != std::string::npos);
}
