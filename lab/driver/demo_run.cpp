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
namespace {

constexpr auto demo_timeout = std::chrono::seconds(300);

// The box a demo runs in, with the student's settings in its environment.
sandbox_request demo_request(app_context& context, const std::string& name,
                             const std::map<std::string, std::string>& params) {
  sandbox_request request;
  request.argv = {build_config::demos_program, name};
  for (const auto& [key, value] : params) request.argv.push_back(key + "=" + value);
  request.limits.timeout = demo_timeout;
  request.limits.cpu_seconds = 1200;
  request.limits.max_tasks = 512;
  // Demos are lab's own code, boxed so that Ctrl-C and hangs stop them cleanly;
  // no address-space cap (a sanitizer build of lab-demos reserves terabytes).
  request.limits.address_space_bytes = 0;
  request.cancel = context.cancel;
  request.env = context.settings_env();
  return request;
}

}  // namespace

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
  sandbox_request request = demo_request(context, name, merged);
  request.pass_output = true;
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
      *context.out << fmt::format("\n(demo timed out after {} s)\n", demo_timeout.count());
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

demo_capture run_demo_captured(app_context& context, const std::string& name,
                               const demo_params& params) {
  sandbox_request request =
      demo_request(context, name, std::map<std::string, std::string>(params.begin(), params.end()));
  request.env.clear();  // the default settings, so that figures compare across machines
  request.env.emplace_back("LAB_COURSE_DIR", context.the_course().root.string());
  const sandbox_result run = run_sandboxed(request);
  demo_capture capture;
  capture.output = run.out + run.err;
  capture.metrics = parse_metrics(run.channel);
  switch (run.outcome) {
    case sandbox_outcome::exited:
      capture.exit_code = run.exit_code == 0 ? exit_code::ok : exit_code::failed;
      if (run.exit_code != 0) capture.problem = fmt::format("exited with {}", run.exit_code);
      break;
    case sandbox_outcome::interrupted:
      capture.exit_code = exit_code::interrupted;
      capture.problem = "stopped";
      break;
    case sandbox_outcome::timed_out:
      capture.exit_code = exit_code::failed;
      capture.problem = fmt::format("timed out after {} s", demo_timeout.count());
      break;
    case sandbox_outcome::signaled:
      capture.exit_code = exit_code::lab_error;
      capture.problem = "crashed: " + describe_signal(run.term_signal);
      break;
    case sandbox_outcome::failed_to_start:
      capture.exit_code = exit_code::lab_error;
      capture.problem = "cannot start the demos program: " + run.error;
      break;
  }
  return capture;
}

std::vector<demo_metric> parse_metrics(const std::string& channel) {
  std::vector<demo_metric> metrics;
  std::size_t start = 0;
  while (start < channel.size()) {
    auto end = channel.find('\n', start);
    if (end == std::string::npos) end = channel.size();
    const auto line = nlohmann::json::parse(channel.substr(start, end - start), nullptr, false);
    start = end + 1;
    if (!line.is_object() || !line.contains("metric") || !line["metric"].is_string() ||
        !line.contains("value") || !line["value"].is_number())
      continue;
    metrics.push_back(
        {line["metric"].get<std::string>(), line["value"].get<double>(), line.value("unit", "")});
  }
  return metrics;
}

}  // namespace lab
