#include "course.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "json_file.hpp"
#include "lab/protocol.hpp"

namespace lab {
namespace {

using json = nlohmann::json;

const char* const info_path = "exercises/info.json";

// 1-based line where `"name": "<value>"` appears, for schema errors; 0 if unknown.
std::size_t line_of_exercise(const std::string& text, const std::string& name) {
  return line_of_word(text, name);
}

[[noreturn]] void fail(std::size_t line, const std::string& what) {
  if (line == 0) throw course_error(fmt::format("{}: {}", info_path, what));
  throw course_error(fmt::format("{}:{}: {}", info_path, line, what));
}

// Reads field `key` of `entry` as T, or `fallback` when absent.
template <typename T>
T field(const json& entry, const char* key, T fallback, std::size_t line, const std::string& who) {
  if (!entry.contains(key)) return fallback;
  try {
    return entry.at(key).get<T>();
  } catch (const json::exception&) {
    fail(line, fmt::format("{}: \"{}\" has the wrong type", who, key));
  }
}

timing_plan read_timing(const json& entry, std::size_t line, const std::string& who) {
  timing_plan plan;
  plan.size = field<long>(entry, "size", protocol::defaults::time_size, line, who);
  plan.workers = field<std::vector<int>>(entry, "workers", {1, 5}, line, who);
  plan.repeats = field<int>(entry, "repeats", static_cast<int>(protocol::defaults::time_repeats),
                            line, who);
  if (plan.repeats < 1) fail(line, who + ": \"repeats\" must be at least 1");
  for (const auto& row : entry.value("stages", json::array())) {
    plan.rows.push_back({field<int>(row, "stage", 1, line, who),
                         field<std::string>(row, "label", "", line, who),
                         field<bool>(row, "native", false, line, who)});
  }
  return plan;
}

// The check program's box: the defaults with the entry's "limits" on top.
// Without a CPU limit of its own, a run may burn four cores' worth of its
// wall-clock timeout (a check with many threads on a big machine).
run_profile read_limits(const json& entry, std::size_t line, const std::string& who) {
  const json limits = entry.value("limits", json());
  run_profile profile;
  try {
    profile = apply_limits(profiles::check_program(), limits);
  } catch (const std::invalid_argument& error) {
    fail(line, fmt::format("{}: {}", who, error.what()));
  }
  if (!limits.contains("cpu_seconds"))
    profile.cpu_seconds = 4 * static_cast<std::uint64_t>(
                                  std::chrono::ceil<std::chrono::seconds>(profile.timeout).count());
  return profile;
}

// The line of hint `item` of exercise `name`: where its text is written,
// else where the exercise's "hints" list starts, else the exercise's line.
std::size_t line_of_hint(const std::string& text, const std::string& name, const json& item) {
  const std::size_t entry = text.find(json(name).dump());
  const std::size_t list = entry == std::string::npos ? entry : text.find("\"hints\"", entry);
  if (list == std::string::npos) return line_of_exercise(text, name);
  const json& words = item.is_object() && item.contains("text") ? item["text"] : item;
  const std::size_t written = words.is_string() ? text.find(words.dump(), list) : std::string::npos;
  return line_of(text, written == std::string::npos ? list : written);
}

// The exercise's "hints": a list of {"stage": N, "text": "..."}, N one of
// its stages. (Hints once were bare strings, shown in one sequence across
// the stages: such a hint is refused with the form to write instead.)
std::vector<hint> read_hints(const json& entry, const exercise& e, const std::string& text) {
  std::vector<hint> hints;
  if (!entry.contains("hints")) return hints;
  const std::string who = fmt::format("exercise \"{}\"", e.name);
  const int stages = static_cast<int>(e.stages.size());
  const std::string form =
      fmt::format("{{\"stage\": N, \"text\": \"...\"}} with N from 1 to {}", stages);
  const json& list = entry.at("hints");
  if (!list.is_array())
    fail(line_of_hint(text, e.name, json()),
         fmt::format("{}: \"hints\" should be a list of {}", who, form));
  int number = 0;
  for (const json& item : list) {
    ++number;
    const std::size_t line = line_of_hint(text, e.name, item);
    if (!item.is_object())
      fail(line, fmt::format("{}: hint {} has no stage; write it as {}", who, number, form));
    const auto words = item.find("text");
    if (words == item.end() || !words->is_string() || words->get_ref<const std::string&>().empty())
      fail(line, fmt::format("{}: hint {} has no \"text\"", who, number));
    const auto stage = item.find("stage");
    if (stage == item.end() || !stage->is_number_integer() || *stage < 1 || *stage > stages)
      fail(line, fmt::format("{}: hint {}: \"stage\" should be one of its stages, 1 to {}", who,
                             number, stages));
    hints.push_back({stage->get<int>(), words->get<std::string>()});
  }
  return hints;
}

exercise read_exercise(const json& entry, const std::string& text) {
  const std::string name = entry.value("name", "");
  const std::size_t line = line_of_exercise(text, name);
  if (name.empty()) fail(line, "an exercise has no \"name\"");
  const std::string who = fmt::format("exercise \"{}\"", name);

  exercise e;
  e.name = name;
  e.title = field<std::string>(entry, "title", name, line, who);
  e.lesson = field<std::string>(entry, "lesson", "", line, who);
  e.file = field<std::string>(entry, "file", name + ".cpp", line, who);
  e.profile = read_limits(entry, line, who);
  e.race_check_stages = field<std::vector<int>>(entry, "race_check_stages", {}, line, who);
  e.green_threads = field<bool>(entry, "green_threads", false, line, who);
  // The green-thread library has no ThreadSanitizer build for check programs
  // (one thread: a race pass would have nothing to find).
  if (e.green_threads && !e.race_check_stages.empty())
    fail(line, fmt::format("{}: \"green_threads\" and \"race_check_stages\" do not go together; "
                           "drop \"race_check_stages\"",
                           who));
  int number = 0;
  for (const auto& stage : entry.value("stages", json::array()))
    e.stages.push_back({++number, field<std::string>(stage, "title", "", line, who)});
  if (e.stages.empty()) e.stages.push_back({1, ""});
  e.hints = read_hints(entry, e, text);
  if (entry.contains("timing")) e.timing = read_timing(entry.at("timing"), line, who);
  return e;
}

}  // namespace

const exercise* course::find(const std::string& name) const {
  auto found = std::find_if(exercises.begin(), exercises.end(),
                            [&](const exercise& e) { return e.name == name; });
  return found == exercises.end() ? nullptr : &*found;
}

std::vector<std::string> exercise::hints_for(int stage) const {
  std::vector<std::string> texts;
  for (const auto& each : hints)
    if (each.stage == stage) texts.push_back(each.text);
  return texts;
}

std::vector<std::string> course::names() const {
  std::vector<std::string> result;
  for (const auto& e : exercises) result.push_back(e.name);
  return result;
}

std::filesystem::path course::exercise_file(const exercise& e) const {
  return root / "exercises" / e.file;
}
std::filesystem::path course::solution_file(const exercise& e) const {
  return root / "solutions" / e.file;
}
std::filesystem::path course::checks_dir(const exercise& e) const {
  return checks_root / e.name;
}

course load_course(const std::filesystem::path& root, const std::filesystem::path& checks_root) {
  const auto [text, document] = read_json_file(
      root / info_path, info_path, fmt::format("is it a lab course folder? ({})", root.string()));

  course result;
  result.root = root;
  result.checks_root = checks_root.empty() ? root / "checks" : checks_root;
  if (!document.is_object() || !document.contains("exercises") || !document["exercises"].is_array())
    fail(1, "expected an object with an \"exercises\" list");
  for (const auto& entry : document["exercises"]) {
    exercise e = read_exercise(entry, text);
    if (result.find(e.name) != nullptr)
      fail(line_of_exercise(text, e.name), "two exercises are named " + e.name);
    result.exercises.push_back(std::move(e));
  }
  return result;
}

}  // namespace lab
