#include "lab/settings.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <string_view>

#include "lab/gil.hpp"
#include "lab/primes.hpp"

namespace lab {
namespace {

// The whole text as a number, or false (from_chars: no locale, no exceptions).
template <typename T>
bool parse(std::string_view text, T& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::vector<std::string> apply_settings_from_environment() {
  std::vector<std::string> problems;
  if (const char* text = std::getenv("LAB_GIL_INTERVAL_MS")) {
    double ms = 0;
    // 1 µs to 10 s: a zero interval would make every waiter ask at once.
    if (parse(text, ms) && ms >= 0.001 && ms <= 10'000)
      gil::set_switch_interval(std::chrono::microseconds(static_cast<long>(ms * 1000 + 0.5)));
    else
      problems.push_back(std::string("LAB_GIL_INTERVAL_MS=") + text +
                         " is not a number of milliseconds between 0.001 and 10000");
  }
  if (const char* text = std::getenv("LAB_GIL_FORCED")) {
    const std::string_view value = text;
    if (value == "1" || value == "on")
      gil::set_force_switching(true);
    else if (value == "0" || value == "off")
      gil::set_force_switching(false);
    else
      problems.push_back(std::string("LAB_GIL_FORCED=") + text + " should be on or off");
  }
  if (const char* text = std::getenv("LAB_SAFEPOINT_SPACING")) {
    long divisions = 0;
    if (parse(text, divisions) && divisions >= 1 && divisions <= 1'000'000)
      set_safepoint_spacing(divisions);
    else
      problems.push_back(std::string("LAB_SAFEPOINT_SPACING=") + text +
                         " is not a whole number between 1 and 1000000");
  }
  return problems;
}

}  // namespace lab
