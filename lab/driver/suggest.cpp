#include "suggest.hpp"

#include <algorithm>
#include <numeric>

namespace lab {

std::size_t edit_distance(const std::string& a, const std::string& b) {
  // One row of the classic dynamic-programming table at a time.
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), std::size_t{0});
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::vector<std::string> closest_names(const std::string& word,
                                       const std::vector<std::string>& candidates,
                                       std::size_t most) {
  // Allow about one typo per three letters, at least two.
  const std::size_t allowed = std::max<std::size_t>(2, word.size() / 3);
  std::vector<std::pair<std::size_t, std::string>> scored;
  for (const auto& candidate : candidates) {
    const bool prefix = !word.empty() && candidate.rfind(word, 0) == 0;
    const std::size_t distance = prefix ? 0 : edit_distance(word, candidate);
    if (distance <= allowed) scored.emplace_back(distance, candidate);
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<std::string> result;
  for (const auto& [distance, name] : scored) {
    if (result.size() == most) break;
    result.push_back(name);
  }
  return result;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  const auto names = closest_names(word, candidates);
  if (names.empty()) return "";
  std::string text = " Did you mean: ";
  for (std::size_t i = 0; i < names.size(); ++i) text += (i == 0 ? "" : ", ") + names[i];
  return text + "?";
}

}  // namespace lab
