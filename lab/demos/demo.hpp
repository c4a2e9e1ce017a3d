// The demos registry: each demo is one file that registers itself by name,
// with its parameters declared (params.hpp). The lab-demos program runs one:
// `lab-demos primes stage=1 workers=1,5`.
// Lessons name demos in their ```demo blocks; `run` in the REPL (or
// `lab demo NAME`) runs them in the sandbox, like an exercise.
#pragma once

#include <lab/protocol.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "params.hpp"

namespace lab::demos {

struct demo {
  std::string name;
  std::string summary;             // one line: what it shows
  std::vector<param_spec> params;  // every parameter, its default and range (params.hpp)
  std::function<int(const demos::params&)> run;  // returns the exit code; params are checked
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

// Registers a demo at static-initialization time. Its declared defaults must
// fit their ranges (std::logic_error otherwise: lab-demos stops at start-up,
// loudly, whatever it was asked to do).
struct registration {
  explicit registration(demo d);
};

}  // namespace lab::demos
