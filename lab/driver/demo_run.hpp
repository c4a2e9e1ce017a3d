// Running a lesson demo: the lab-demos program, in the sandbox like an
// exercise (a demo can hang, or be stopped with Ctrl-C), with its output
// going straight to the terminal as it happens.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "app.hpp"

namespace lab {

using demo_params = std::vector<std::pair<std::string, std::string>>;

// Runs demo `name` with `defaults` overlaid by `overrides` (key=value each).
// Returns lab's exit code for it.
int run_demo(app_context& context, const std::string& name, const demo_params& defaults,
             const demo_params& overrides);

// A figure a demo measured and reported (report_metric in lab/demos/demo.hpp).
struct demo_metric {
  std::string name;
  double value = 0;
  std::string unit;
};

// What a demo run with captured output gave: for lab bench.
struct demo_capture {
  int exit_code = 0;    // lab's exit code for the run, as run_demo returns it
  std::string output;   // what it printed (stdout then stderr), up to the sandbox's cap
  std::string problem;  // why it did not finish normally; empty if it did
  std::vector<demo_metric> metrics;
};

// Runs demo `name` (which must exist) with `params` and the default GIL
// settings (not the student's: figures should compare across machines), its
// output captured instead of shown, and collects the figures it reported.
demo_capture run_demo_captured(app_context& context, const std::string& name,
                               const demo_params& params);

// The metric lines of a result channel; lines that are not metrics are skipped.
std::vector<demo_metric> parse_metrics(const std::string& channel);

// The demos lab-demos knows, by name (from `lab-demos --list`).
std::vector<std::string> available_demos();

}  // namespace lab
