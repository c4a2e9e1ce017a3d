#include "lab/settings.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <string_view>

#include "lab/gil.hpp"
#include "lab/primes.hpp"
#include "lab/protocol.hpp"

namespace lab {
namespace {

namespace env = protocol::env;
namespace range = protocol::settings;

// A number as a person would write it: 0.001, 10000 (to_chars: shortest form).
template <typename T>
std::string written(T number) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, number);
  return std::string(text, result.ptr);
}

// "NAME=value " for a message about a value that could not be used.
std::string named(const char* name, const char* value) {
  return std::string(name) + "=" + value + " ";
}

}  // namespace

std::vector<std::string> apply_settings_from_environment() {
  std::vector<std::string> problems;
  if (const char* text = std::getenv(env::gil_interval_ms)) {
    if (const auto ms = range::parse_interval_ms(text))
      gil::set_switch_interval(std::chrono::microseconds(static_cast<long>(*ms * 1000 + 0.5)));
    else
      problems.push_back(
          named(env::gil_interval_ms, text) + "is not a number of milliseconds between " +
          written(range::interval_ms_min) + " and " + written(range::interval_ms_max));
  }
  if (const char* text = std::getenv(env::gil_forced)) {
    if (const auto forced = range::parse_forced(text))
      gil::set_force_switching(*forced);
    else
      problems.push_back(named(env::gil_forced, text) + "should be on or off");
  }
  if (const char* text = std::getenv(env::safepoint_spacing)) {
    if (const auto divisions = range::parse_spacing(text))
      set_safepoint_spacing(*divisions);
    else
      problems.push_back(named(env::safepoint_spacing, text) + "is not a whole number between " +
                         written(range::spacing_min) + " and " + written(range::spacing_max));
  }
  return problems;
}

}  // namespace lab
