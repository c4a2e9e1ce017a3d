// A class is graded on busy machines: every reference solution must pass
// with two busy processes per core beside it, the verdicts the same as on
// an idle machine. (LAB_LOAD_ROUNDS=10 repeats it; bin/test runs one round.)
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "lab_process.hpp"

namespace {

// Spinning processes for as long as it lives; each also ends by itself
// after 15 minutes, should the test die first.
class busy_machine {
 public:
  explicit busy_machine(unsigned spinners) {
    for (unsigned i = 0; i < spinners; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        alarm(900);
        volatile unsigned long sink = 0;
        for (;;) sink = sink + 1;
      }
      spinners_.push_back(pid);
    }
  }
  ~busy_machine() {
    for (pid_t pid : spinners_) kill(pid, SIGKILL);
    for (pid_t pid : spinners_) waitpid(pid, nullptr, 0);
  }
  busy_machine(const busy_machine&) = delete;
  busy_machine& operator=(const busy_machine&) = delete;

 private:
  std::vector<pid_t> spinners_;
};

int rounds() {
  const char* text = std::getenv("LAB_LOAD_ROUNDS");
  return text == nullptr ? 1 : std::max(1, std::atoi(text));
}

}  // namespace

TEST_CASE("every solution passes with two busy processes per core beside it") {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const busy_machine busy(2 * cores);
  for (int round = 1; round <= rounds(); ++round) {
    const auto run = lab_test::run_lab({"grade", "--solutions", "--format", "json"},
                                       {}, std::chrono::seconds(1200));
    INFO("round ", round, " of ", rounds(), "; stderr: ", run.err);
    const auto report = lab_test::output_json(run);
    for (const auto& exercise : report["exercises"])
      for (const auto& check : exercise["checks"]) {
        INFO(exercise["exercise"], ": ", check["name"], ": ", check["message"]);
        CHECK(check["passed"] == true);
      }
    CHECK(run.exit_code == 0);
    MESSAGE("round ", round, ": lab grade --solutions took ", run.seconds, " s beside ",
            2 * cores, " spinners");
  }
}
