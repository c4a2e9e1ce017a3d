// The student's progress: a small JSON file per checkout (.lab/progress.json,
// or $LAB_STATE_DIR/progress.json) recording exercises passed, hints shown,
// and (for the lessons) slides seen.
//
// What a student earned is never lost: the file is written atomically
// (a temporary file, then rename), and a file that cannot be read is moved
// aside with a warning, never silently overwritten.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace lab {

class progress_store {
 public:
  // Loads `file` if it exists. A corrupt file is renamed to
  // "<file>.corrupt-<time>", and warning() says so.
  explicit progress_store(std::filesystem::path file);

  // The record of one exercise: {"status": "failing"|"done", "passed_at": ...,
  // "hints_shown": N, "stages_passed": [...]}, created empty on first use.
  nlohmann::json& exercise(const std::string& name);
  const nlohmann::json* find_exercise(const std::string& name) const;

  // Records a run's verdict (and the date, the first time it passes).
  void record_run(const std::string& name, bool passed, const std::vector<int>& stages_passed);

  // Writes the file atomically. Throws std::runtime_error if it cannot.
  void save() const;

  const std::string& warning() const { return warning_; }
  const std::filesystem::path& file() const { return file_; }
  nlohmann::json& data() { return data_; }

 private:
  std::filesystem::path file_;
  nlohmann::json data_;
  std::string warning_;
};

// Where progress lives for the course at `root`: $LAB_STATE_DIR/progress.json
// when that is set (tests, CI), else <root>/.lab/progress.json.
std::filesystem::path progress_file_for(const std::filesystem::path& root);

}  // namespace lab
