// Whole numbers from the environment, for the check harness's settings
// (stage, seed, what to time).
#pragma once

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace lab::check::detail {

// The variable `name` as a T; `fallback` when it is unset or is not a whole
// number of type T (the whole text: no sign, no spaces, nothing after).
template <typename T>
T env_number(const char* name, T fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  const std::string_view view(text);
  T value{};
  const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size()) return fallback;
  return value;
}

}  // namespace lab::check::detail
