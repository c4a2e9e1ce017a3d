#include "demo_params.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace lab {

demo_params parse_params(const std::vector<std::string>& words) {
  demo_params params;
  for (const auto& word : words) {
    const auto equals = word.find('=');
    if (equals == std::string::npos || equals == 0)
      throw std::invalid_argument(fmt::format("\"{}\" is not key=value", word));
    params.emplace_back(word.substr(0, equals), word.substr(equals + 1));
  }
  return params;
}

demo_params parse_params_text(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return parse_params(words);
}

demo_params overlay_params(demo_params base, const demo_params& overrides) {
  for (const auto& [key, value] : overrides) {
    auto same = std::find_if(base.begin(), base.end(),
                             [&](const auto& param) { return param.first == key; });
    if (same != base.end())
      same->second = value;
    else
      base.emplace_back(key, value);
  }
  return base;
}

}  // namespace lab
