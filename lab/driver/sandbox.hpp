// The sandbox: runs one untrusted program (a student's check program or a
// demo) in a box and reports what happened.
//
// The box:
//   * its own process group (and, as root, its own pids cgroup when the
//     machine offers one), so that everything it starts can be found and
//     killed afterwards; lab is a child subreaper, so that orphans that
//     escape the group come back to it;
//   * a timeout, after which the whole box is killed. It is counted in the
//     box's own time: wall time in which its threads were running or
//     blocked, not time they waited for a CPU that other programs held
//     (schedstat's run-queue delay). On a busy machine a correct program
//     thus gets the time it needs; a deadlocked one (blocked) or one in an
//     endless loop (running) uses its time up. If the machine leaves the box
//     almost no time (wall time passes `busy_factor` timeouts), the run ends
//     as too_busy: no verdict on the program;
//   * its own network namespace with only a loopback, where the profile asks
//     for it and the machine allows it (else a note says so);
//   * a scratch folder of its own (LAB_SCRATCH_DIR, also TMPDIR), removed
//     after the run;
//   * resource limits: CPU time, address space, open files, file size, and
//     a cap on processes + threads. As root RLIMIT_NPROC is not enforced,
//     so there the cap comes from a pids cgroup or, failing that, from
//     running the program as the unprivileged user "nobody";
//   * standard output and error captured up to a cap (the rest is counted
//     and dropped, never stored);
//   * a result channel: a pipe whose write end the program finds on the file
//     descriptor named by the environment variable protocol::env::result_fd. The check
//     harness writes its JSON lines there, so verdicts never come from
//     scraping what the student's code prints.
// After run_sandboxed returns, no process of the run is left. Several boxes
// may run at once (from several threads): each one cleans up only its own
// processes.
//
// The driver calls this through the run layer (run.hpp), never directly.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "run_profile.hpp"

namespace lab {

// The box's limits are a run profile (run_profile.hpp).
using sandbox_limits = run_profile;

// Test only: makes the child's set-up fail at one step, as if the kernel had
// refused it, to show that every failure is reported as what it is.
enum class sandbox_fault { none, join_cgroup, lay_out_fds, isolate_network, enter_folder };

struct sandbox_request {
  std::vector<std::string> argv;                         // argv[0] is the program's path
  std::vector<std::pair<std::string, std::string>> env;  // added to lab's own
  std::filesystem::path working_dir;                     // empty: lab's own
  sandbox_limits limits;
  // When true the program's stdout and stderr are lab's own (a demo printing
  // live to the terminal) instead of being captured; out/err stay empty.
  bool pass_output = false;
  // Set from another thread or a signal handler (e.g. Ctrl-C in the REPL) to
  // stop the run early; the result's outcome is then `interrupted`.
  const std::atomic<bool>* cancel = nullptr;
  sandbox_fault fault = sandbox_fault::none;
};

enum class sandbox_outcome {
  exited,           // exit_code is valid
  signaled,         // killed by term_signal (a crash, or the CPU limit)
  timed_out,        // killed by lab after limits.timeout of the box's own time (see below)
  too_busy,         // killed by lab: the machine left it no time to run (see below)
  interrupted,      // killed by lab because *cancel became true
  failed_to_start,  // fork/exec failed; error says why
};

struct sandbox_result {
  sandbox_outcome outcome = sandbox_outcome::failed_to_start;
  int exit_code = -1;
  int term_signal = 0;
  std::string out;              // first limits.output_cap_bytes of stdout
  std::string err;              // first limits.output_cap_bytes of stderr
  std::uint64_t out_bytes = 0;  // everything the program wrote to stdout
  std::uint64_t err_bytes = 0;
  std::string channel;             // what the program wrote to the result channel
  bool task_limit_hit = false;     // a fork or thread creation hit max_tasks
  std::string containment;         // how tasks were capped: "cgroup", "nobody", "rlimit", or
                                   // "none" (root, no cgroup, and nobody cannot reach the program)
  int leftovers_killed = 0;        // processes still alive after the run, killed by lab
  std::vector<std::string> notes;  // what the box could not do on this machine, in words
  // At a timeout: what the box's threads were doing, as evidence for the
  // verdict ("every thread was blocked", "it kept the CPU busy").
  std::string timeout_evidence;
  double cpu_seconds = 0;     // CPU the box's processes used (those still there at the end)
  double chance_seconds = 0;  // the box's own time: see the timeout note above
  std::chrono::duration<double> elapsed{};
  std::string error;  // for failed_to_start
};

// Runs the request in a box and waits for it. Never throws for anything the
// program does; throws std::system_error only if lab itself cannot make pipes.
// Called from the driver's main thread.
sandbox_result run_sandboxed(const sandbox_request& request);

// True if the user nobody may execute `program`: the file and every folder
// above it are open to others (a checkout under a 0700 folder is not).
bool nobody_can_run(const std::filesystem::path& program);

// "SIGSEGV (segmentation fault)"-style name for a signal number.
std::string describe_signal(int signal_number);

}  // namespace lab
