#include "hints_seen.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <string>
#include <vector>

namespace lab {
namespace {

using json = nlohmann::json;

const char* const by_stage_key = "hints_shown_by_stage";
const char* const total_key = "hints_shown";

// A count stored in the record, or 0 if it is missing or not a count (a
// hand-edited file must not stop `lab hint`).
int count_in(const json& value) {
  return value.is_number_integer() ? std::max(0, value.get<int>()) : 0;
}

// What `record` says was seen, by stage: its counts by stage, or, in a record
// from before stages, its one count spread over the hints in course order.
std::map<int, int> seen_by_stage(const json* record, const exercise& e) {
  std::map<int, int> seen;
  if (record == nullptr || !record->is_object()) return seen;
  if (const auto by_stage = record->find(by_stage_key);
      by_stage != record->end() && by_stage->is_object()) {
    for (const auto& [key, value] : by_stage->items()) {
      int stage = 0;
      const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), stage);
      if (error == std::errc() && end == key.data() + key.size()) seen[stage] = count_in(value);
    }
    return seen;
  }
  const auto total = record->find(total_key);
  const int old_count = total == record->end() ? 0 : count_in(*total);
  for (std::size_t i = 0; i < e.hints.size() && static_cast<int>(i) < old_count; ++i)
    ++seen[e.hints[i].stage];
  return seen;
}

}  // namespace

int hints_seen(const json* record, const exercise& e, int stage) {
  const auto seen = seen_by_stage(record, e);
  const auto found = seen.find(stage);
  const int count = found == seen.end() ? 0 : found->second;
  return std::min(count, static_cast<int>(e.hints_for(stage).size()));
}

void record_hints_seen(json& record, const exercise& e, int stage, int count) {
  std::map<int, int> seen = seen_by_stage(&record, e);
  seen[stage] = std::max(seen[stage], count);
  json by_stage = json::object();
  int total = 0;
  for (const auto& [each, seen_count] : seen) {
    by_stage[std::to_string(each)] = seen_count;
    total += seen_count;
  }
  record[by_stage_key] = by_stage;
  record[total_key] = total;
}

hint_stage stage_for_hints(const json* record, const exercise& e) {
  const int last = static_cast<int>(e.stages.size());
  if (record == nullptr || !record->is_object()) return {};
  const auto passed_list = record->find("stages_passed");
  if (passed_list == record->end() || !passed_list->is_array()) return {};
  std::vector<int> passed;
  for (const json& stage : *passed_list)
    if (stage.is_number_integer()) passed.push_back(stage.get<int>());
  for (int stage = 1; stage <= last; ++stage)
    if (std::find(passed.begin(), passed.end(), stage) == passed.end())
      return {stage, hint_stage::reason::not_passed};
  return {last, hint_stage::reason::all_passed};
}

}  // namespace lab
