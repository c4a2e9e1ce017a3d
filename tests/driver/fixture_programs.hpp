// The fixture programs of tests/fixtures/programs (a spinner, a protocol
// peer, ...) and a run_spec that runs one in the box: shared by the run
// layer's tests (run_test.cpp, run_busy_test.cpp).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "run.hpp"

namespace lab_test {

inline std::string fixture(const std::string& name) {
  return std::string(LAB_FIXTURE_PROGRAMS_DIR) + "/" + name;
}

// `program` with `args`, in a box with a 20 s timeout (a bound, not a verdict).
inline lab::run_spec spec_for(const std::string& program, std::vector<std::string> args = {}) {
  using namespace std::chrono_literals;
  lab::run_spec spec;
  spec.argv = {fixture(program)};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.profile.timeout = 20s;
  return spec;
}

}  // namespace lab_test
