// Running a lesson demo: the lab-demos program, in the box like an exercise
// (a demo can hang, or be stopped with Ctrl-C), either with its output going
// straight to the terminal or captured for `lab bench`. Runs return data;
// the commands (cmd_demo.cpp, cmd_bench.cpp, the REPL) print.
#pragma once

#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "demo_params.hpp"
#include "run.hpp"

namespace lab {

// A demo lab-demos knows (from `lab-demos --list`).
struct demo_info {
  std::string name;
  std::string summary;      // one line: what it shows
  std::string params_help;  // e.g. "stage=1|2|3 workers=1,5"
  run_profile profile;      // its box: lab's demo defaults with the demo's own limits
};

// The demos lab-demos knows, by name. Empty if lab-demos cannot be asked.
std::vector<demo_info> available_demos();

// The demo called `name` among `demos`, or nullptr.
const demo_info* find_demo(const std::vector<demo_info>& demos, const std::string& name);

struct demo_request {
  const demo_info* demo = nullptr;
  demo_params params;
  environment settings;                // the student's GIL settings; empty: the defaults
  std::filesystem::path course_dir;    // where the demo finds course data
  bool live_output = false;            // straight to the terminal, else captured
  std::optional<run_profile> profile;  // instead of the demo's own (lab bench's limits)
  const std::atomic<bool>* cancel = nullptr;
};

// What a demo run gave.
struct demo_outcome {
  run_result run;
  std::vector<protocol::metric> metrics;  // the figures it reported, in order
  int exit_code = 0;                      // lab's exit code for the run
  std::string problem;                    // why it did not finish normally; "" if it did
};

demo_outcome run_demo(const demo_request& request);

}  // namespace lab
