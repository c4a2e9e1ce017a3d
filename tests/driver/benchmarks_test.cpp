// The benchmarks file: entries and targets are read, mistakes are named with
// their file and line, and targets are judged and described the same way
// everywhere.
#include "benchmarks.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "course.hpp"

namespace fs = std::filesystem;

namespace {

// Writes `text` to a new benchmarks file in a fresh folder.
fs::path benchmarks_file(const std::string& text) {
  std::string pattern = (fs::temp_directory_path() / "lab-bench-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  const fs::path file = fs::path(pattern) / "benchmarks.json";
  std::ofstream(file) << text;
  return file;
}

// The message load_benchmarks throws for `text`, or "" if it loads.
std::string benchmarks_load_error(const std::string& text) {
  try {
    lab::load_benchmarks(benchmarks_file(text));
  } catch (const lab::course_error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a benchmarks file gives each entry its demo params and targets") {
  const auto file = benchmarks_file(R"({"benchmarks": [
    {"name": "convoy", "demo": "gil.convoy", "params": "interval_ms=5 pings=100",
     "what": "round trips", "targets": [{"metric": "p99_ratio", "at_least": 20}]},
    {"name": "handoff", "demo": "gil.handoff",
     "targets": [{"metric": "median_wait_ms", "near": 5, "tolerance": 0.1}]},
    {"name": "fib", "demo": "fib.compare"}
  ]})");
  const auto all = lab::load_benchmarks(file);
  REQUIRE(all.size() == 3);
  CHECK(all[0].name == "convoy");
  CHECK(all[0].demo == "gil.convoy");
  CHECK(all[0].what == "round trips");
  REQUIRE(all[0].params.size() == 2);
  CHECK(all[0].params[1] == std::pair<std::string, std::string>{"pings", "100"});
  REQUIRE(all[0].targets.size() == 1);
  CHECK(all[0].targets[0].how == lab::metric_target::kind::at_least);
  CHECK(all[0].targets[0].value == 20);
  REQUIRE(all[1].targets.size() == 1);
  CHECK(all[1].targets[0].how == lab::metric_target::kind::near);
  CHECK(all[1].targets[0].tolerance == doctest::Approx(0.1));
  CHECK(all[2].targets.empty());
  CHECK(all[2].params.empty());
}

TEST_CASE("a malformed benchmarks file is refused with its file line and what to fix") {
  CHECK(benchmarks_load_error("{\"benchmarks\": [\n  {\"name\": \"x\",}\n]}")
            .find("benchmarks.json:2: not valid JSON") != std::string::npos);
  CHECK(benchmarks_load_error("[]").find("expected {\"benchmarks\"") != std::string::npos);
  CHECK(benchmarks_load_error(R"({"benchmarks": [{"name": "x"}]})").find("benchmark x: no \"demo\"") !=
        std::string::npos);
  CHECK(benchmarks_load_error(R"({"benchmarks": [{"name": "x", "demo": "d", "params": "oops"}]})")
            .find("oops") != std::string::npos);
  CHECK(benchmarks_load_error("{\"benchmarks\": [\n{\"name\": \"x\", \"demo\": \"d\",\n \"targets\": "
                   "[{\"metric\": \"m\", \"near\": 5}]}]}")
            .find("benchmarks.json:2: benchmark x: a \"near\" target needs a \"tolerance\"") !=
        std::string::npos);
  CHECK(benchmarks_load_error(R"({"benchmarks": [{"name": "x", "demo": "d", "targets": [{"metric": "m"}]}]})")
            .find("needs \"at_least\", \"at_most\" or \"near\"") != std::string::npos);
  CHECK(benchmarks_load_error(R"({"benchmarks": []})").empty());
}

TEST_CASE("a near target is met only within its tolerance on either side") {
  lab::metric_target near{"median_wait_ms", lab::metric_target::kind::near, 5, 0.10};
  CHECK(lab::target_met(near, 5.0));
  CHECK(lab::target_met(near, 5.49));
  CHECK(lab::target_met(near, 4.51));
  CHECK_FALSE(lab::target_met(near, 5.6));
  CHECK_FALSE(lab::target_met(near, 4.4));
  CHECK(lab::describe_target(near, "ms") == "5 ms ±10%");
}

TEST_CASE("an at-least target is met at its value and above") {
  lab::metric_target floor{"p99_ratio", lab::metric_target::kind::at_least, 20, 0};
  CHECK(lab::target_met(floor, 20));
  CHECK(lab::target_met(floor, 300));
  CHECK_FALSE(lab::target_met(floor, 19.9));
  CHECK(lab::describe_target(floor, "x") == "≥ 20x");
}

TEST_CASE("an at-most target is met at its value and below") {
  lab::metric_target ceiling{"gil_speedup_2_threads", lab::metric_target::kind::at_most, 1.1, 0};
  CHECK(lab::target_met(ceiling, 1.1));
  CHECK(lab::target_met(ceiling, 0.6));
  CHECK_FALSE(lab::target_met(ceiling, 1.11));
  CHECK(lab::describe_target(ceiling, "x") == "≤ 1.1x");
}

TEST_CASE("an at-most target is read from the file") {
  const std::string text =
      R"({"benchmarks": [{"name": "countdown", "demo": "gil.countdown",
          "targets": [{"metric": "gil_speedup_2_threads", "at_most": 1.1}]}]})";
  const auto file = benchmarks_file(text);
  const auto all = lab::load_benchmarks(file);
  REQUIRE(all.size() == 1);
  REQUIRE(all[0].targets.size() == 1);
  CHECK(all[0].targets[0].how == lab::metric_target::kind::at_most);
  CHECK(all[0].targets[0].value == doctest::Approx(1.1));
}
