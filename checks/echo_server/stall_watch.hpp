// Liveness from progress, for a server in another process.
//
// lab/progress.hpp measures the chance of this process's threads; here the
// code under test is the server child, so its own figures count: the chance
// it had is the wall time it was running or blocked, not the time it waited
// for a CPU that others held (/proc/<pid>/task/*/schedstat). A wait gives up
// only on evidence: no byte moved while the server had `patience` of chance
// (the clients, on this process's threads, must have had it too: time they
// waited for a CPU does not count either)
// (stuck: then whether it was blocked or burning CPU says which mistake it
// is), or the machine left it no chance for `busy_limit` (too busy to decide).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>

#include "server_figures.hpp"

namespace echo_check {

// How much chance without progress makes a server stuck.
inline constexpr double patience_seconds = 3.0;
// How long a machine may leave the server no chance before the check gives up undecided.
inline constexpr double busy_limit_seconds = 60.0;

// "1.25 s", for messages.
std::string in_seconds(double seconds);

class stall_watch {
 public:
  enum class verdict { keep_waiting, stuck, too_busy };

  explicit stall_watch(pid_t pid);

  // Something moved: the patience starts again.
  void progressed();

  // Looks at the server now: whether to give up, and why.
  verdict look();

  // Since the last progress: wall seconds, chance, CPU the server used.
  double stalled() const { return stalled_; }
  double chance() const { return chance_; }
  double cpu() const { return cpu_; }

  // Whether the server used most of its chance on a CPU (a loop), rather
  // than waiting in the kernel.
  bool burning() const { return cpu_ >= 0.5 * chance_; }

  // What the server did while nothing moved, in words: "blocked with no
  // progress: ..." or "CPU burnt with no progress: ...".
  std::string stuck_words() const;

 private:
  using clock = std::chrono::steady_clock;
  pid_t pid_;
  clock::time_point since_;
  server_figures at_progress_;
  double own_waiting_at_progress_ = 0;  // this process's run-queue wait then
  double stalled_ = 0, chance_ = 0, cpu_ = 0;
};

}  // namespace echo_check
