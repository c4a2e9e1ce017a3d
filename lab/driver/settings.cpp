#include "settings.hpp"

#include <fmt/core.h>

#include "invocation.hpp"
#include "lab/protocol.hpp"

namespace lab {
namespace {

namespace ps = protocol::settings;

}  // namespace

const std::vector<setting_info>& known_settings() {
  // Names, defaults and ranges come from the protocol, which the runtime
  // reads too: the two sides cannot drift apart.
  static const std::vector<setting_info> settings = {
      {"interval_ms", protocol::env::gil_interval_ms, fmt::format("{:g}", ps::interval_ms_default),
       fmt::format("switch interval: how long a waiting thread waits before it asks for the GIL "
                   "({:g} to {:g})",
                   ps::interval_ms_min, ps::interval_ms_max)},
      {"forced", protocol::env::gil_forced, ps::forced_default ? "on" : "off",
       "forced switching: after a requested drop the holder waits until another thread took the "
       "GIL (on or off)"},
      {"spacing", protocol::env::safepoint_spacing, std::to_string(ps::spacing_default),
       fmt::format("safepoint spacing: loop steps of interpreted work between two safepoints "
                   "({} to {})",
                   ps::spacing_min, ps::spacing_max)},
  };
  return settings;
}

const setting_info* find_setting(const std::string& key) {
  for (const auto& s : known_settings())
    if (s.key == key) return &s;
  return nullptr;
}

std::pair<std::string, std::string> normalize_setting(const setting_info& s,
                                                      const std::string& value) {
  if (s.key == "interval_ms") {
    if (const auto ms = ps::parse_interval_ms(value)) return {fmt::format("{}", *ms), ""};
    return {"", fmt::format("interval_ms={} is not a number of milliseconds from {:g} to {:g}",
                            value, ps::interval_ms_min, ps::interval_ms_max)};
  }
  if (s.key == "forced") {
    if (const auto forced = ps::parse_forced(value)) return {*forced ? "on" : "off", ""};
    return {"", fmt::format("forced={} should be on or off", value)};
  }
  if (const auto divisions = ps::parse_spacing(value)) return {std::to_string(*divisions), ""};
  return {"", fmt::format("{}={} is not a whole number from {} to {}", s.key, value,
                          ps::spacing_min, ps::spacing_max)};
}

std::vector<std::pair<std::string, std::string>> settings_environment(
    const nlohmann::json& stored) {
  std::vector<std::pair<std::string, std::string>> env;
  if (!stored.is_object()) return env;
  for (const auto& s : known_settings()) {
    const auto found = stored.find(s.key);
    if (found == stored.end() || !found->is_string()) continue;
    // A hand-edited file may hold anything: only values that pass are used.
    const auto [value, error] = normalize_setting(s, found->get<std::string>());
    if (error.empty()) env.emplace_back(s.env, value);
  }
  return env;
}

std::string settings_note(const std::vector<std::pair<std::string, std::string>>& env) {
  std::string changed;
  for (const auto& [var, value] : env)
    for (const auto& s : known_settings())
      if (s.env == var) changed += fmt::format("{}{}={}", changed.empty() ? "" : " ", s.key, value);
  return fmt::format("(your settings: {}; {} goes back to the defaults)", changed,
                     lab_command("settings --reset"));
}

}  // namespace lab
