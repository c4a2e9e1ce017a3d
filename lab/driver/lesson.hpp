// Lessons as data: one Markdown file per lesson in lessons/, named
// NN-key.md (NN orders them, `key` is what students type: `open gil`).
// Slides are separated by lines that are exactly "---". The first slide
// starts with "# Title", the others with "## Title". A slide may carry:
//
//   ```demo                       a demo that `run` executes, with defaults
//   primes stage=1 workers=1,5
//   ```
//   ```demo coming                a demo a later version of the lab adds
//   race.counter threads=2
//   ```
//   ```exercise                   the exercise this slide leads to
//   primes
//   ```                           (```exercise coming``` for planned ones)
//
// See lessons/README.md for the instructors' version of this.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lab {

struct demo_directive {
  std::string name;                                         // e.g. "primes"
  std::vector<std::pair<std::string, std::string>> params;  // defaults, in order
  bool coming = false;                                      // not in the lab yet
  int line = 0;
};

struct exercise_pointer {
  std::string name;
  bool coming = false;
  int line = 0;
};

struct slide {
  std::string title;
  std::string body;  // the Markdown after the heading, directives removed
  std::optional<demo_directive> demo;
  std::optional<exercise_pointer> exercise;
  int line = 0;  // where the slide starts in its file
};

struct lesson {
  std::string key;    // "gil"
  std::string title;  // from the first slide's "# " heading
  std::filesystem::path file;
  std::vector<slide> slides;
};

// A malformed lesson: the message starts with "file:line: ".
class lesson_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses one lesson's text. `file` is used for the key and for messages.
// Throws lesson_error at the first problem.
lesson parse_lesson(const std::filesystem::path& file, const std::string& text);

struct lesson_set {
  std::vector<lesson> lessons;      // in file-name order
  std::vector<std::string> errors;  // one line per file that did not load
  const lesson* find(const std::string& key) const;
  std::vector<std::string> keys() const;
};

// Loads every NN-key.md file in `folder`. A malformed file becomes one line
// in `errors`, and the other lessons still load.
lesson_set load_lessons(const std::filesystem::path& folder);

}  // namespace lab
