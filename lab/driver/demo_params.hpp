// A demo's parameters, KEY=VALUE: parsed once, where they are typed (the
// command line, the REPL) or written (a lesson's ```demo block,
// lessons/benchmarks.json); every layer below passes the pairs.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lab {

using demo_params = std::vector<std::pair<std::string, std::string>>;

// Parses KEY=VALUE words. Throws std::invalid_argument naming the first word
// that is not KEY=VALUE.
demo_params parse_params(const std::vector<std::string>& words);

// The same for words separated by spaces ("workers=1,2 end=50"), as course
// files write them.
demo_params parse_params_text(const std::string& text);

// `base` with `overrides` on top: a key in both takes the override's value;
// new keys come after base's, in order.
demo_params overlay_params(demo_params base, const demo_params& overrides);

}  // namespace lab
