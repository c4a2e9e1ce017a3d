// A racing program as a model: a few threads running the same short list of
// atomic steps over shared variables, for the race stepper (`lab step`).
//
// lesson: races
//
// Models are course content: lessons/stepper/NAME.json, e.g.
//   {"summary": "...", "threads": 2,
//    "shared": {"n": 0}, "locals": {"tmp": 0},
//    "steps": ["tmp = n", "tmp = tmp + 1", "n = tmp"],
//    "outcome": "n = {n}", "bad_when": "n != threads", "bad": "an update was lost"}
// A step is one statement, taken as a whole by one thread:
//   x = EXPR            assignment (EXPR: numbers, variables, + - and comparisons,
//                       which give 1 or 0; `threads` is the number of threads)
//   if EXPR: x = EXPR   a guarded assignment
//   lock m / unlock m   a mutex: a thread may take `lock m` only while m is 0
// Each thread has its own copy of the locals; the shared variables are one.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace lab::stepper {

// An expression: a number, a variable, or an operator over two operands.
struct expr {
  std::string op;  // "num", "var", or one of + - == != < <= > >=
  long number = 0;
  std::string name;
  std::vector<expr> operands;
};

struct statement {
  enum class kind { assign, lock, unlock };
  kind what = kind::assign;
  std::string text;               // as written, for display
  std::optional<expr> condition;  // `if EXPR:`
  std::string target;             // the variable assigned, or the mutex
  expr value;
};

struct model {
  std::string name;
  std::string summary;
  int threads = 2;
  std::map<std::string, long> shared;
  std::map<std::string, long> locals;
  std::vector<statement> steps;
  std::string outcome;  // "n = {n}": shared variables in braces
  expr bad_when;
  std::string bad;  // what the bad outcome means, e.g. "an update was lost"
};

// A model file that cannot be used: "lessons/stepper/x.json: step 2: ...".
class model_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads and checks a model file (every variable known, every step parsed).
model load_model(const std::filesystem::path& file);

// Parses one step or expression; throws model_error with the problem.
statement parse_statement(const std::string& text);
expr parse_expression(const std::string& text);

// The models of a course: <course>/lessons/stepper/*.json, by name.
std::vector<std::string> model_names(const std::filesystem::path& course_root);
std::filesystem::path model_file(const std::filesystem::path& course_root, const std::string& name);

}  // namespace lab::stepper
