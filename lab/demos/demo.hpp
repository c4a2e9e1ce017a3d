// The demos registry: each demo is one file that registers itself by name.
// The lab-demos program runs one: `lab-demos primes stage=1 workers=1,5`.
// Lessons name demos in their ```demo blocks; `run` in the REPL (or
// `lab demo NAME`) runs them in the sandbox, like an exercise.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace lab::demos {

// A demo's parameters: the lesson's defaults overlaid with the student's.
class params {
 public:
  explicit params(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  long number(const std::string& key, long fallback) const;
  double real(const std::string& key, double fallback) const;
  std::vector<long> numbers(const std::string& key, std::vector<long> fallback) const;    // "1,2,4"
  std::vector<double> reals(const std::string& key, std::vector<double> fallback) const;  // "5,0.1"
  bool flag(const std::string& key, bool fallback) const;                                 // 0/1
  std::string text(const std::string& key, const std::string& fallback) const;
  // Parameters nobody asked for: probably typos, reported by the runner.
  std::vector<std::string> unused() const;

 private:
  const std::string* find(const std::string& key) const;
  std::map<std::string, std::string> values_;
  mutable std::map<std::string, bool> used_;
};

// A parameter that could not be read: "workers=x is not a number".
class bad_param : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct demo {
  std::string name;
  std::string summary;                    // one line: what it shows
  std::string params_help;                // e.g. "stage=1|2|3 workers=1,5 native=0|1 end=N"
  std::function<int(const params&)> run;  // returns the exit code
};

// All registered demos, by name.
std::map<std::string, demo>& registry();

// Reports one measured figure to the driver: `lab bench` reads these (one
// JSON line each on the result channel, LAB_RESULT_FD) and compares them
// with the targets in lessons/benchmarks.json. Does nothing when the demo
// runs without a channel. `name` is a short key such as "p99_ratio".
void report_metric(const std::string& name, double value, const std::string& unit);

// Registers a demo at static-initialization time.
struct registration {
  explicit registration(demo d);
};

}  // namespace lab::demos
