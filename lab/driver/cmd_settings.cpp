// lab settings [key=value ...] [--reset]: show or change the GIL analogue's
// settings that demos and exercise runs use (see settings.hpp).
#include <fmt/core.h>

#include <ostream>

#include "app.hpp"
#include "invocation.hpp"
#include "settings.hpp"
#include "suggest.hpp"

namespace lab {
namespace {

struct settings_options {
  std::vector<std::string> assignments;
  bool reset = false;
};

int run_settings(const settings_options& options, app_context& context) {

  // Check every assignment before changing anything: all or nothing.
  std::vector<std::pair<std::string, std::string>> changes;
  for (const auto& word : options.assignments) {
    const auto equals = word.find('=');
    const std::string key = word.substr(0, equals);
    const setting_info* s = find_setting(key);
    if (s == nullptr) {
      std::vector<std::string> keys;
      for (const auto& each : known_settings()) keys.push_back(each.key);
      *context.err << fmt::format("lab settings: no setting named '{}'.{} ({} lists them)\n", key,
                                  did_you_mean(key, keys), lab_command("settings"));
      return exit_code::bad_usage;
    }
    if (equals == std::string::npos) {
      *context.err << fmt::format("lab settings: give a value, e.g. {}={}\n", key,
                                  s->default_value);
      return exit_code::bad_usage;
    }
    const auto [value, error] = normalize_setting(*s, word.substr(equals + 1));
    if (!error.empty()) {
      *context.err << "lab settings: " << error << "\n";
      return exit_code::bad_usage;
    }
    changes.emplace_back(key, value);
  }
  if (options.reset || !changes.empty())
    context.update_progress([&](progress_store& progress) {
      auto& stored = progress.data()["settings"];
      if (options.reset || !stored.is_object()) stored = nlohmann::json::object();
      for (const auto& [key, value] : changes) {
        if (value == find_setting(key)->default_value)
          stored.erase(key);  // the default is kept by saying nothing
        else
          stored[key] = value;
      }
    });
  const nlohmann::json stored =
      context.progress().data().value("settings", nlohmann::json::object());

  for (const auto& s : known_settings()) {
    const bool changed = stored.contains(s.key);
    const std::string value = changed ? stored[s.key].get<std::string>() : s.default_value;
    *context.out << fmt::format("  {:<12} {:<8} {}\n", s.key, value + (changed ? "*" : ""), s.help);
  }
  *context.out << fmt::format(
      "  (* changed from the default; demos and `{}` use these, `{}` does not; {} goes back)\n",
      lab_command("exercise"), lab_command("grade"), lab_command("settings --reset"));
  return exit_code::ok;
}

}  // namespace

void setup_settings(CLI::App& app, app_context& context) {
  auto options = std::make_shared<settings_options>();
  CLI::App* sub =
      app.add_subcommand("settings", "Show or change the GIL analogue's settings, e.g. " +
                                         lab_command("settings interval_ms=1"));
  sub->add_option("assignments", options->assignments, "key=value, e.g. forced=off spacing=8");
  sub->add_flag("--reset", options->reset, "Go back to the defaults");
  context.runners[sub] = [options, &context] { return run_settings(*options, context); };
}

}  // namespace lab
