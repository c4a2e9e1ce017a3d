// The course checks itself: for every exercise in exercises/info.json, the
// stub fails its checks and the solution passes them all.
#include <doctest/doctest.h>

#include <fstream>

#include "lab_process.hpp"

using lab_test::run_lab;

namespace {

std::vector<std::string> course_exercises() {
  std::ifstream info(lab_test::repository() / "exercises" / "info.json");
  const auto document = nlohmann::json::parse(info);
  std::vector<std::string> names;
  for (const auto& entry : document["exercises"]) names.push_back(entry["name"].get<std::string>());
  return names;
}

}  // namespace

TEST_CASE("every stub in exercises/ fails its checks") {
  const auto names = course_exercises();
  REQUIRE_FALSE(names.empty());
  for (const auto& name : names) {
    INFO("exercise ", name);
    const auto run = run_lab({"exercise", name, "--no-timings", "--json"});
    INFO(run.err);
    CHECK(run.exit_code == 1);
    const auto report = lab_test::output_json(run);
    CHECK(report["build"]["ok"] == true);  // a stub compiles
    CHECK(report["passed"] == false);
  }
}

TEST_CASE("every solution in solutions/ passes all its checks") {
  for (const auto& name : course_exercises()) {
    INFO("exercise ", name);
    const auto run = run_lab({"solution", name, "--no-timings", "--json"});
    const auto report = lab_test::output_json(run);
    for (const auto& check : report["checks"]) {
      INFO("stage ", check["stage"], ": ", check["name"], ": ", check["message"]);
      CHECK(check["passed"] == true);
    }
    CHECK(report["passed"] == true);
    CHECK(run.exit_code == 0);
  }
}
