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

// The demos lab-demos knows, by name (from `lab-demos --list`).
std::vector<std::string> available_demos();

}  // namespace lab
