// The run layer on a machine that is busy, on purpose: a spinning program
// and programs kept off the CPU by spinners pinned beside them. A binary of
// its own, run alone (RUN_SERIAL): these tests load the machine, and a load
// made by other tests beside them would change the verdicts they check.
#include "run.hpp"
#include "fixture_programs.hpp"

#include <doctest/doctest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;

using lab_test::fixture;
using lab_test::spec_for;

namespace {

// Spinning processes pinned to CPU 0 for as long as it lives, so that a box
// pinned there gets a small share of it: a busy machine, made on purpose.
class busy_cpu_zero {
 public:
  explicit busy_cpu_zero(int spinners) {
    for (int i = 0; i < spinners; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        cpu_set_t zero;
        CPU_ZERO(&zero);
        CPU_SET(0, &zero);
        sched_setaffinity(0, sizeof zero, &zero);
        alarm(60);  // bounded even if the test dies
        volatile unsigned long sink = 0;
        for (;;) sink = sink + 1;
      }
      spinners_.push_back(pid);
    }
  }
  ~busy_cpu_zero() {
    for (pid_t pid : spinners_) kill(pid, SIGKILL);
    for (pid_t pid : spinners_) waitpid(pid, nullptr, 0);
  }
  busy_cpu_zero(const busy_cpu_zero&) = delete;
  busy_cpu_zero& operator=(const busy_cpu_zero&) = delete;

 private:
  std::vector<pid_t> spinners_;
};

// Runs `spec` with this thread (and so the box) pinned to CPU 0.
lab::run_result run_on_cpu_zero(const lab::run_spec& spec) {
  cpu_set_t before, zero;
  sched_getaffinity(0, sizeof before, &before);
  CPU_ZERO(&zero);
  CPU_SET(0, &zero);
  sched_setaffinity(0, sizeof zero, &zero);
  auto run = lab::run_in_box(spec);
  sched_setaffinity(0, sizeof before, &before);
  return run;
}

}  // namespace

TEST_CASE("a spinning program times out with the evidence that it kept the CPU busy") {
  auto spec = spec_for("cpu_burner", {"30"});
  spec.profile.timeout = 1s;
  // On a machine so busy that the box gets less than a sixth of a core, the
  // right verdict is "too busy to decide" (the next tests show it): that
  // run says nothing about the evidence, so it is run again (at most 5 times).
  auto run = lab::run_in_box(spec);
  for (int again = 0; again < 4 && run.outcome == lab::run_outcome::too_busy; ++again) {
    MESSAGE("the machine was too busy to decide; running again");
    run = lab::run_in_box(spec);
  }
  CHECK(run.outcome == lab::run_outcome::timed_out);
  CHECK(run.stop_reason().find("it kept the CPU busy without finishing") != std::string::npos);
}

TEST_CASE("a program kept off the CPU by others gets its time instead of a timeout") {
  // It needs 0.25 s of CPU and has a 1 s timeout; with eight spinners on
  // its CPU it gets about a ninth of it (less when other tests run too), so
  // it needs 2 to 4 s of wall time: a wall-clock timeout would kill it.
  const busy_cpu_zero busy(8);
  auto spec = spec_for("cpu_burner", {"0.25"});
  spec.profile.timeout = 1s;
  const auto run = run_on_cpu_zero(spec);
  INFO(run.stop_reason(), "; wall ", run.elapsed.count(), " s, own time ", run.chance_seconds,
       " s");
  CHECK(run.succeeded());
  MESSAGE("0.25 s of CPU took ", run.elapsed.count(), " s of wall time beside 8 spinners");
}

TEST_CASE("a program the machine leaves almost no time is too busy to judge and not timed out") {
  const busy_cpu_zero busy(8);
  auto spec = spec_for("cpu_burner", {"30"});
  spec.profile.timeout = 1s;
  const auto run = run_on_cpu_zero(spec);
  INFO("wall ", run.elapsed.count(), " s, own time ", run.chance_seconds, " s");
  CHECK(run.outcome == lab::run_outcome::too_busy);
  CHECK(run.stop_reason().find("the machine was too busy to decide") == 0);
}
