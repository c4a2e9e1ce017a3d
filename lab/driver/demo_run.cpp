#include "demo_run.hpp"

#include <fmt/core.h>

#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "build_config.hpp"
#include "sandbox.hpp"
#include "settings.hpp"
#include "suggest.hpp"

namespace lab {

std::vector<std::string> available_demos() {
  sandbox_request request;
  request.argv = {build_config::demos_program, "--list"};
  request.limits.timeout = std::chrono::seconds(10);
  request.limits.address_space_bytes = 0;  // lab's own code; a sanitizer build reserves terabytes
  const sandbox_result run = run_sandboxed(request);
  std::vector<std::string> names;
  const auto list = nlohmann::json::parse(run.out, nullptr, false);
  if (list.is_array())
    for (const auto& demo : list) names.push_back(demo.value("name", ""));
  return names;
}

int run_demo(app_context& context, const std::string& name, const demo_params& defaults,
             const demo_params& overrides) {
  const auto names = available_demos();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    *context.err << fmt::format("lab: no demo named '{}'.{} (lab demo --list shows them)\n", name,
                                did_you_mean(name, names));
    return exit_code::bad_usage;
  }
  std::map<std::string, std::string> merged(defaults.begin(), defaults.end());
  for (const auto& [key, value] : overrides) merged[key] = value;

  sandbox_request request;
  request.argv = {build_config::demos_program, name};
  for (const auto& [key, value] : merged) request.argv.push_back(key + "=" + value);
  request.limits.timeout = std::chrono::seconds(300);
  request.limits.cpu_seconds = 1200;
  request.limits.max_tasks = 512;
  // Demos are lab's own code, boxed so that Ctrl-C and hangs stop them cleanly;
  // no address-space cap (a sanitizer build of lab-demos reserves terabytes).
  request.limits.address_space_bytes = 0;
  request.pass_output = true;
  request.cancel = context.cancel;
  request.env = context.settings_env();
  if (!request.env.empty()) *context.out << settings_note(request.env) << "\n";
  // Demos that read course data (the race stepper's models) find it here.
  request.env.emplace_back("LAB_COURSE_DIR", context.the_course().root.string());
  context.out->flush();
  const sandbox_result run = run_sandboxed(request);
  switch (run.outcome) {
    case sandbox_outcome::exited:
      return run.exit_code == 0 ? exit_code::ok : exit_code::failed;
    case sandbox_outcome::interrupted:
      *context.out << "\n(demo stopped)\n";
      return exit_code::interrupted;
    case sandbox_outcome::timed_out:
      *context.out << "\n(demo timed out after 300 s)\n";
      return exit_code::failed;
    case sandbox_outcome::signaled:
      *context.out << fmt::format("\n(demo crashed: {})\n", describe_signal(run.term_signal));
      return exit_code::lab_error;
    case sandbox_outcome::failed_to_start:
      *context.err << fmt::format(
          "lab: cannot start the demos program: {}; run bin/lab to rebuild\n", run.error);
      return exit_code::lab_error;
  }
  return exit_code::lab_error;
}

}  // namespace lab
