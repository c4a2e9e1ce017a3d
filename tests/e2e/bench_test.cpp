// End-to-end: lab bench runs demos, shows the figures they report next to
// their targets, and says when a demo did not finish. Whether a target is
// met depends on the machine, so the tests check only that the verdict agrees
// with the figure shown.
#include <doctest/doctest.h>

#include <sstream>

#include "lab_process.hpp"

using lab_test::run_lab;

namespace {

std::vector<std::string> in_fixture(std::vector<std::string> args) {
  args.insert(args.begin(), {"--course", lab_test::fixture_course().string()});
  return args;
}

}  // namespace

TEST_CASE("lab bench reports each figure's median with the target it is compared with") {
  const auto run = run_lab(in_fixture({"bench", "quick_handoff", "--runs", "2", "--json"}));
  CHECK(run.exit_code == 0);
  const auto report = lab_test::output_json(run);
  CHECK(report["runs"] == 2);
  REQUIRE(report["benchmarks"].size() == 1);
  const auto& handoff = report["benchmarks"][0];
  CHECK(handoff["demo"] == "gil.handoff");
  CHECK(handoff["ok"] == true);
  bool seen = false;
  for (const auto& figure : handoff["figures"]) {
    if (figure["name"] != "median_wait_ms") continue;
    seen = true;
    CHECK(figure["unit"] == "ms");
    CHECK(figure["values"].size() == 2);
    CHECK(figure["target"] == "1 ms ±50%");
    const double median = figure["median"].get<double>();
    CHECK(figure["met"] == (median >= 0.5 && median <= 1.5));
  }
  CHECK(seen);
  CHECK(report["targets_judged"] == 1);  // never_reported is not judged
}

TEST_CASE("lab bench in text says which targets a demo did not report") {
  const auto run = run_lab(in_fixture({"bench", "quick_handoff"}));
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("median_wait_ms") != std::string::npos);
  CHECK(run.out.find("target 1 ms ±50%") != std::string::npos);
  CHECK(run.out.find("never_reported") != std::string::npos);
  CHECK(run.out.find("(the demo did not report it)") != std::string::npos);
  CHECK(run.out.find("Targets are reported, not enforced") != std::string::npos);
}

TEST_CASE("lab bench fails when a demo does not finish and shows why") {
  const auto run = run_lab(in_fixture({"bench", "missing_demo"}));
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("the demo did not finish: exited with 2") != std::string::npos);
  CHECK(run.out.find("no demo named 'no.such.demo'") != std::string::npos);
}

TEST_CASE("lab bench refuses an unknown benchmark and points to the list") {
  const auto run = run_lab(in_fixture({"bench", "quick_handof"}));
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("no benchmark named 'quick_handof'") != std::string::npos);
  CHECK(run.err.find("quick_handoff") != std::string::npos);
}

TEST_CASE("every benchmark of the course names a demo that exists") {
  const auto list = run_lab({"bench", "--list"});
  REQUIRE(list.exit_code == 0);
  const auto demos = run_lab({"demo", "--list"});
  REQUIRE(demos.exit_code == 0);
  std::istringstream lines(list.out);
  std::string name, demo, rest;
  int count = 0;
  while (lines >> name >> demo && std::getline(lines, rest)) {
    INFO("benchmark ", name);
    CHECK(demos.out.find(demo + "\n") != std::string::npos);
    ++count;
  }
  CHECK(count >= 6);
}
