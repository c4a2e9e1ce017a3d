// Running the real lab binary from the end-to-end tests, the way a student
// or CI would, with a time bound so that no test can hang.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lab_test {

struct lab_run {
  int exit_code = -1;  // -1 if it had to be killed
  std::string out;
  std::string err;
  double seconds = 0;
};

// Runs `lab args...` with a private progress folder (LAB_STATE_DIR) and
// NO_COLOR set, plus `env`; kills it after `timeout`.
lab_run run_lab(const std::vector<std::string>& args,
                const std::vector<std::pair<std::string, std::string>>& env = {},
                std::chrono::seconds timeout = std::chrono::seconds(300));

// Parses a run's standard output as JSON (a failed test shows what it was).
nlohmann::json output_json(const lab_run& run);

// The first pointer address in `text` ("0x55f1c2a3b4d0": 0x and at least six
// hex digits), or "" if there is none. lab's and the checks' messages mean
// words: an address in them is a `const char*` (or another pointer) streamed
// where its text was meant.
std::string first_address(const std::string& text);

// The fixture course under tests/fixtures/course, and the repository itself.
std::filesystem::path fixture_course();
std::filesystem::path repository();
// A copy of the fixture course in a fresh temporary folder, for a test that
// edits it (or lets lab write into it).
std::filesystem::path fixture_course_copy();

// The whole content of a text file ("" if it cannot be read).
std::string read_text(const std::filesystem::path& path);

// A fresh, empty temporary folder.
std::filesystem::path fresh_temp_dir();

// Pids of live processes whose executable path contains `fragment`.
std::vector<pid_t> processes_running(const std::string& fragment);

// Those of them that are not run by some other lab or test (no lab process
// and no other test program among their ancestors up to `ours`): what our
// run left behind. Programs that other tests run at the same time (ctest -j),
// through lab or directly, and the processes those programs forked, are not
// counted. `ours` is the lab under test if it still runs (a REPL), else 0.
std::vector<pid_t> processes_left_behind(const std::string& fragment, pid_t ours = 0);

// Keeps this process, and so every program it starts, on CPU 0 while it
// lives: a machine with one usable core (as `taskset -c 0` would), whatever
// the machine has. The affinity it had comes back at the end of the scope.
class on_cpu_zero {
 public:
  on_cpu_zero();
  ~on_cpu_zero();
  on_cpu_zero(const on_cpu_zero&) = delete;
  on_cpu_zero& operator=(const on_cpu_zero&) = delete;

 private:
  cpu_set_t before_;
};

}  // namespace lab_test
