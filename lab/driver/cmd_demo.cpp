// lab demo NAME [key=value ...]: run one lesson demo outside the REPL.
#include <fmt/core.h>

#include <ostream>

#include "app.hpp"
#include "demo_run.hpp"

namespace lab {
namespace {

struct demo_options {
  std::string name;
  std::vector<std::string> params;
  bool list = false;
};

int run_demo_command(const demo_options& options, app_context& context) {
  if (options.list || options.name.empty()) {
    for (const auto& name : available_demos()) *context.out << name << "\n";
    return exit_code::ok;
  }
  demo_params overrides;
  try {
    std::string words;
    for (const auto& p : options.params) words += p + " ";
    overrides = parse_params(words);
  } catch (const std::invalid_argument& error) {
    *context.err << fmt::format("lab demo: {}; parameters are key=value, e.g. workers=1,2\n",
                                error.what());
    return exit_code::bad_usage;
  }
  return run_demo(context, options.name, {}, overrides);
}

}  // namespace

void setup_demo(CLI::App& app, app_context& context) {
  auto options = std::make_shared<demo_options>();
  CLI::App* sub =
      app.add_subcommand("demo", "Run a lesson demo, e.g. lab demo primes stage=3 workers=1,2");
  sub->add_option("name", options->name, "The demo (--list shows them)");
  sub->add_option("params", options->params, "Parameters as key=value");
  sub->add_flag("--list", options->list, "List the demos");
  context.runners[sub] = [options, &context] { return run_demo_command(*options, context); };
}

}  // namespace lab
