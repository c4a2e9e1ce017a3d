// The student's progress: a small JSON file per checkout (.lab/progress.json,
// or $LAB_STATE_DIR/progress.json) recording exercises passed, hints shown,
// and (for the lessons) slides seen.
//
// What a student earned is never lost:
//   * every change is a locked read-merge-write (update): an advisory lock on
//     progress.lock beside the file, the file read again from disk, the change
//     applied to what is there, the result written back. Two lab commands at
//     once (a hint during an exercise run, the REPL in one terminal and
//     `lab exercise` in another) each keep the other's update: the
//     read-modify-write race the course teaches, avoided with a lock;
//   * the file is written atomically (a temporary file, then rename);
//   * a file that cannot be read is moved aside under a name of its own with
//     a warning, never silently overwritten.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lab {

class progress_store {
 public:
  // Loads `file` if it exists. A corrupt file is renamed to
  // "<file>.corrupt-<time>-<pid>-<n>" (never onto an earlier one), and
  // warning() says so.
  explicit progress_store(std::filesystem::path file);

  // The record of one exercise: {"status": "failing"|"done", "passed_at": ...,
  // "stages_passed": [...], "hints_shown_by_stage": {"1": N, ...},
  // "hints_shown": N (hints_seen.hpp)}, created empty on first use.
  nlohmann::json& exercise(const std::string& name);
  const nlohmann::json* find_exercise(const std::string& name) const;

  // Records a run's verdict (and the date, the first time it passes).
  void record_run(const std::string& name, bool passed, const std::vector<int>& stages_passed);

  // Applies `change` to the progress as it is on disk now, and writes the
  // result back, all under the lock: see the top of this file. Afterwards
  // this store holds what was written. Throws std::runtime_error if the
  // file cannot be written.
  void update(const std::function<void(progress_store&)>& change);

  // Reads the file again (what other lab commands may have written).
  void reload();

  const std::string& warning() const { return warning_; }
  const std::filesystem::path& file() const { return file_; }
  nlohmann::json& data() { return data_; }

 private:
  void load();        // from file_, setting a corrupt file aside
  void save() const;  // atomically; the caller holds the lock

  std::filesystem::path file_;
  nlohmann::json data_;
  std::string warning_;
};

// Where progress lives for the course at `root`: $LAB_STATE_DIR/progress.json
// when that is set (tests, CI), else <root>/.lab/progress.json.
std::filesystem::path progress_file_for(const std::filesystem::path& root);

}  // namespace lab
