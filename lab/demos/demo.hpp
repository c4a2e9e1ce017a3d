// The demos registry: each demo is one file that registers itself by name.
// The lab-demos program runs one: `lab-demos primes stage=1 workers=1,5`.
// Lessons name demos in their ```demo blocks; `run` in the REPL (or
// `lab demo NAME`) runs them in the sandbox, like an exercise.
#pragma once

#include <lab/protocol.hpp>

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
  // Its box's limits as a JSON object, e.g. R"({"open_files": 12000})", on
  // top of lab's defaults for demos (lab/driver/run_profile.hpp); "" for none.
  std::string limits = {};
};

// All registered demos, by name.
std::map<std::string, demo>& registry();

// The result channel to lab (lab/protocol.hpp). main() takes it from the
// environment once, at start-up, and hands it over here before any demo
// runs or any thread starts; until then (and in tests) it is not connected.
void use_channel(protocol::channel_writer channel);
const protocol::channel_writer& channel();

// Reports one measured figure to the driver: `lab bench` reads these
// (protocol::metric events on the result channel) and compares them with the
// targets in lessons/benchmarks.json. Does nothing when the demo runs
// without a channel. `name` is a short key such as "p99_ratio".
void report_metric(const std::string& name, double value, const std::string& unit);

// Registers a demo at static-initialization time.
struct registration {
  explicit registration(demo d);
};

}  // namespace lab::demos
