// The course as data: which exercises exist, read at run time from
// exercises/info.json. The driver has no built-in knowledge of any exercise:
// adding one means adding its stub, its solution, its checks folder and an
// entry in info.json.
//
// Layout of a course folder (the repository, or a fixture in tests/):
//   exercises/info.json          metadata: title, lesson, stages, hints (each
//                                with its stage), timing, the limits of the
//                                check program's box
//   exercises/<file>             the stub the student edits
//   solutions/<file>             the reference solution, same file name
//   checks/<name>/*.cpp          hidden checks (may live elsewhere: --checks DIR)
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "run_profile.hpp"

namespace lab {

struct stage_info {
  int number = 0;  // 1-based
  std::string title;
};

// One row of the timing table: a stage, maybe with is_prime in native mode.
struct timing_row {
  int stage = 0;
  std::string label;
  bool native = false;
};

struct timing_plan {
  long size = 0;             // the input size passed to the timed body
  std::vector<int> workers;  // worker counts to time, e.g. {1, 5}
  int repeats = 0;           // timed runs after one warm-up
  std::vector<timing_row> rows;
};

// A hint, about one stage of its exercise: `lab hint NAME --stage N` shows
// the hints of stage N one at a time, in the order info.json lists them.
struct hint {
  int stage = 0;  // 1-based
  std::string text;
};

struct exercise {
  std::string name;
  std::string title;
  std::string lesson;
  std::string file;  // file name under exercises/ and solutions/
  std::vector<stage_info> stages;
  run_profile profile;                 // the box of its check program ("limits")
  std::vector<int> race_check_stages;  // stages that get a ThreadSanitizer pass
  bool green_threads = false;          // its check programs link lab/green.hpp and its patch
  std::optional<timing_plan> timing;
  std::vector<hint> hints;  // in the order of info.json, each with its stage

  // The texts of the hints about `stage`, in order.
  std::vector<std::string> hints_for(int stage) const;
};

struct course {
  std::filesystem::path root;         // the course folder
  std::filesystem::path checks_root;  // where checks/<name>/ folders are
  std::vector<exercise> exercises;

  const exercise* find(const std::string& name) const;
  std::vector<std::string> names() const;
  std::filesystem::path exercise_file(const exercise& e) const;
  std::filesystem::path solution_file(const exercise& e) const;
  std::filesystem::path checks_dir(const exercise& e) const;
};

// A problem with the course's files, with the place it was found:
// "exercises/info.json:12: ...".
class course_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads <root>/exercises/info.json. checks_root defaults to <root>/checks.
// Throws course_error naming the file (and line, for syntax errors).
course load_course(const std::filesystem::path& root,
                   const std::filesystem::path& checks_root = {});

}  // namespace lab
