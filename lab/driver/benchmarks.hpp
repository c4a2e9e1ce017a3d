// The benchmarks: which demos `lab bench` runs, with which parameters, and
// the figures each should reach (course data: lessons/benchmarks.json).
// Targets are reported next to what was measured, never enforced: a busy or
// small machine misses them without anything being wrong.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "run_profile.hpp"

namespace lab {

// One figure a demo should reach: "p99_ratio at least 20", "gil speedup at
// most 1.1", or "median_wait_ms near 5 within 10%".
struct metric_target {
  enum class kind { at_least, at_most, near };
  std::string metric;  // the name the demo reports it under (report_metric)
  kind how = kind::at_least;
  double value = 0;
  double tolerance = 0;  // for `near`: a fraction of value, e.g. 0.10
};

struct benchmark {
  std::string name;  // e.g. "convoy"
  std::string demo;  // e.g. "gil.convoy"
  std::vector<std::pair<std::string, std::string>> params;
  std::string what;  // one line: what it measures
  std::vector<metric_target> targets;
  nlohmann::json limits;  // its box's "limits" on top of the demo's own; null if none
};

// Reads a benchmarks file. Throws course_error naming the file (and the
// line, where there is one) if it is malformed.
std::vector<benchmark> load_benchmarks(const std::filesystem::path& file);

// True if `measured` meets the target.
bool target_met(const metric_target& target, double measured);

// "≥ 20x", "≤ 1.1x" or "5 ms ±10%".
std::string describe_target(const metric_target& target, const std::string& unit);

}  // namespace lab
