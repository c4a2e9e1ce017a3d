#include "demo_run.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "build_config.hpp"
#include "exit_codes.hpp"
#include "sandbox.hpp"  // describe_signal

namespace lab {
namespace {

// The box's run of one demo, from the request.
run_spec spec_for(const demo_request& request) {
  run_spec spec;
  spec.argv = {build_config::demos_program, request.demo->name};
  for (const auto& [key, value] : request.params) spec.argv.push_back(key + "=" + value);
  spec.profile = request.profile.value_or(request.demo->profile);
  spec.live_output = request.live_output;
  spec.cancel = request.cancel;
  spec.env = request.settings;
  // Demos that read course data (the race stepper's models) find it here.
  if (!request.course_dir.empty())
    spec.env.emplace_back(protocol::env::course_dir, request.course_dir.string());
  return spec;
}

}  // namespace

std::vector<demo_info> available_demos() {
  run_spec spec;
  spec.argv = {build_config::demos_program, "--list"};
  spec.profile = profiles::query();
  const run_result run = run_in_box(spec);
  std::vector<demo_info> demos;
  for (const auto& event : run.events) {
    const auto* listed = std::get_if<protocol::demo_listed>(&event);
    if (listed == nullptr || listed->name.empty()) continue;
    demo_info demo;
    demo.name = listed->name;
    demo.summary = listed->summary;
    demo.params_help = listed->params;
    const auto limits = listed->limits.empty()
                            ? nlohmann::json()
                            : nlohmann::json::parse(listed->limits, nullptr, false);
    try {
      demo.profile = apply_limits(profiles::demo(), limits);
    } catch (const std::invalid_argument&) {
      demo.profile = profiles::demo();  // lab's own demos: a test checks their limits
    }
    demos.push_back(std::move(demo));
  }
  return demos;
}

const demo_info* find_demo(const std::vector<demo_info>& demos, const std::string& name) {
  const auto found =
      std::find_if(demos.begin(), demos.end(), [&](const demo_info& d) { return d.name == name; });
  return found == demos.end() ? nullptr : &*found;
}

demo_outcome run_demo(const demo_request& request) {
  demo_outcome outcome;
  outcome.run = run_in_box(spec_for(request));
  const run_result& run = outcome.run;
  for (const auto& event : run.events)
    if (const auto* metric = std::get_if<protocol::metric>(&event))
      outcome.metrics.push_back(*metric);
  switch (run.outcome) {
    case run_outcome::exited:
      // lab-demos exits 2 for a parameter out of its range: the user's to fix.
      outcome.exit_code = run.exit_code == 0   ? exit_code::ok
                          : run.exit_code == 2 ? exit_code::bad_usage
                                               : exit_code::failed;
      if (run.exit_code != 0) outcome.problem = fmt::format("exited with {}", run.exit_code);
      break;
    case run_outcome::interrupted:
      outcome.exit_code = exit_code::interrupted;
      outcome.problem = "stopped";
      break;
    case run_outcome::timed_out:
      outcome.exit_code = exit_code::failed;
      outcome.problem = fmt::format("timed out after {} s", seconds_text(run.profile.timeout));
      break;
    case run_outcome::too_busy:
      outcome.exit_code = exit_code::failed;
      outcome.problem = run.stop_reason();
      break;
    case run_outcome::signaled:
      outcome.exit_code = exit_code::lab_error;
      outcome.problem = "crashed: " + describe_signal(run.term_signal);
      break;
    case run_outcome::failed_to_start:
      outcome.exit_code = exit_code::lab_error;
      outcome.problem = "cannot start the demos program: " + run.start_error;
      break;
  }
  return outcome;
}

}  // namespace lab
