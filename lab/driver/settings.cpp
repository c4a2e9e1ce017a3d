#include "settings.hpp"

#include <fmt/core.h>

#include <charconv>

namespace lab {
namespace {

// The whole text as a number of type T, or nothing.
template <typename T>
std::optional<T> parse(const std::string& text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

const std::vector<setting_info>& known_settings() {
  // The ranges match apply_settings_from_environment() in the runtime.
  static const std::vector<setting_info> settings = {
      {"interval_ms", "LAB_GIL_INTERVAL_MS", "5",
       "switch interval: how long a waiting thread waits before it asks for the GIL (0.001 to "
       "10000)"},
      {"forced", "LAB_GIL_FORCED", "on",
       "forced switching: after a requested drop the holder waits until another thread took the "
       "GIL (on or off)"},
      {"spacing", "LAB_SAFEPOINT_SPACING", "64",
       "safepoint spacing: loop steps of interpreted work between two safepoints (1 to 1000000)"},
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
    const auto ms = parse<double>(value);
    if (ms && *ms >= 0.001 && *ms <= 10'000) return {fmt::format("{}", *ms), ""};
    return {"", fmt::format("interval_ms={} is not a number of milliseconds from 0.001 to 10000",
                            value)};
  }
  if (s.key == "forced") {
    if (value == "on" || value == "1" || value == "yes") return {"on", ""};
    if (value == "off" || value == "0" || value == "no") return {"off", ""};
    return {"", fmt::format("forced={} should be on or off", value)};
  }
  const auto divisions = parse<long>(value);
  if (divisions && *divisions >= 1 && *divisions <= 1'000'000)
    return {std::to_string(*divisions), ""};
  return {"", fmt::format("{}={} is not a whole number from 1 to 1000000", s.key, value)};
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
  return fmt::format("(your settings: {}; lab settings --reset goes back to the defaults)",
                     changed);
}

}  // namespace lab
