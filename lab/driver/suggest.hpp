// Closest valid names for a mistyped one ("prims" -> "primes").
#pragma once

#include <string>
#include <vector>

namespace lab {

// Edit distance (insertions, deletions, substitutions) between a and b.
std::size_t edit_distance(const std::string& a, const std::string& b);

// The candidates within a small edit distance of `word` (or starting with
// it), closest first, at most `most` of them.
std::vector<std::string> closest_names(const std::string& word,
                                       const std::vector<std::string>& candidates,
                                       std::size_t most = 3);

// " Did you mean: a, b?" or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace lab
