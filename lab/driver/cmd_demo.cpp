// lab demo NAME [key=value ...]: run one lesson demo outside the REPL.
// show_demo is also what the REPL's `run` calls.
#include <fmt/core.h>

#include <algorithm>
#include <ostream>

#include "app.hpp"
#include "demo_run.hpp"
#include "invocation.hpp"
#include "settings.hpp"
#include "suggest.hpp"

namespace lab {
namespace {

struct demo_options {
  std::string name;
  std::vector<std::string> params;
  bool list = false;
};

int run_demo_command(const demo_options& options, app_context& context) {
  if (options.list || options.name.empty()) {
    // Each demo with what it shows and its parameters (from its registration).
    const auto demos = available_demos();
    std::size_t width = 0;
    for (const auto& demo : demos) width = std::max(width, demo.name.size());
    for (const auto& demo : demos) {
      *context.out << fmt::format("{:<{}}  {}\n", demo.name, width, demo.summary);
      if (!demo.params_help.empty())
        *context.out << fmt::format("{:<{}}  {}\n", "", width, demo.params_help);
    }
    return exit_code::ok;
  }
  demo_params overrides;
  try {
    overrides = parse_params(options.params);
  } catch (const std::invalid_argument& error) {
    *context.err << fmt::format("lab demo: {}; parameters are key=value, e.g. workers=1,2\n",
                                error.what());
    return exit_code::bad_usage;
  }
  return show_demo(context, options.name, {}, overrides);
}

}  // namespace

int show_demo(app_context& context, const std::string& name, const demo_params& defaults,
              const demo_params& overrides) {
  const auto demos = available_demos();
  const demo_info* demo = find_demo(demos, name);
  if (demo == nullptr) {
    std::vector<std::string> names;
    for (const auto& d : demos) names.push_back(d.name);
    *context.err << fmt::format("lab: no demo named '{}'.{} ({} shows them)\n", name,
                                did_you_mean(name, names), lab_command("demo --list"));
    return exit_code::bad_usage;
  }
  demo_request request;
  request.demo = demo;
  request.params = overlay_params(defaults, overrides);
  request.settings = context.settings_env();
  request.course_dir = context.the_course().root;
  request.live_output = true;
  request.cancel = context.cancel;
  if (!request.settings.empty()) *context.out << settings_note(request.settings) << "\n";
  context.out->flush();
  const demo_outcome outcome = run_demo(request);
  for (const auto& note : outcome.run.notes) *context.out << "(note: " << note << ")\n";
  switch (outcome.run.outcome) {
    case run_outcome::exited:
      break;
    case run_outcome::interrupted:
      *context.out << "\n(demo stopped)\n";
      break;
    case run_outcome::timed_out:
    case run_outcome::too_busy:
    case run_outcome::signaled:
      *context.out << fmt::format("\n(demo {})\n", outcome.problem);
      break;
    case run_outcome::failed_to_start:
      *context.err << fmt::format("lab: {}; run {} to rebuild\n", outcome.problem, lab_command());
      break;
  }
  return outcome.exit_code;
}

void setup_demo(CLI::App& app, app_context& context) {
  auto options = std::make_shared<demo_options>();
  CLI::App* sub = app.add_subcommand(
      "demo", "Run a lesson demo, e.g. " + lab_command("demo primes stage=3 workers=1,2"));
  sub->add_option("name", options->name, "The demo (--list shows them)");
  sub->add_option("params", options->params, "Parameters as key=value");
  sub->add_flag("--list", options->list, "List the demos");
  context.runners[sub] = [options, &context] { return run_demo_command(*options, context); };
}

}  // namespace lab
