// How much of the machine a measurement had: the cores it could use and how
// busy other programs kept them meanwhile.
//
// A demo that times N threads against one can show a speedup only if N cores
// were there for it. Two things take them away: the process may be allowed
// fewer cores than the machine has (its affinity mask: `taskset`, a
// container; `nproc` prints that number), and other programs may keep cores
// busy while it measures. A load_watch started before the measurement and
// read after it gives both, so that a demo that did not see its effect can
// say why (verdict.hpp decides).
//
// Why not the load average alone: it is averaged over a minute, so it lags a
// burst of a few seconds, and it counts the demo's own threads too. It is
// reported for people; the decision uses the CPU time other programs took
// on this process's cores during the watch, from /proc/stat, minus the CPU
// time of this process and the children it waited for.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace lab::demos {

struct load_figures {
  unsigned machine_cores = 1;  // cores online (`nproc --all`)
  unsigned usable_cores = 1;   // cores this process may run on (`nproc`: its affinity mask)
  double load_average = -1;    // tasks running or waiting for a CPU, last minute; < 0: unknown
  double others_busy = -1;     // cores that other programs kept busy, on average, during the
                               // watch; < 0: unknown (no /proc/stat)
};

// Time the CPUs spent, summed over some of them, in clock ticks (USER_HZ).
struct cpu_ticks {
  unsigned long long busy = 0;  // running anything: user, nice, system, irq, softirq, steal
  unsigned long long idle = 0;  // idle or waiting for I/O
};

// The first field of /proc/loadavg ("0.52 0.58 0.59 1/467 12345"); nullopt
// if the text does not start with a number.
std::optional<double> parse_load_average(std::string_view proc_loadavg);

// The ticks of CPUs `cpus` (their "cpuN ..." lines) in the text of
// /proc/stat; nullopt if a line is missing or malformed.
std::optional<cpu_ticks> parse_cpu_ticks(std::string_view proc_stat, const std::vector<int>& cpus);

// Cores kept busy by others, on average over `wall_seconds`: the busy time of
// the watched CPUs between `before` and `after` minus `own_cpu_seconds` (this
// process's share), never below 0 or above `cores`.
double others_busy_cores(const cpu_ticks& before, const cpu_ticks& after, double own_cpu_seconds,
                         double wall_seconds, long ticks_per_second, unsigned cores);

// /proc/stat counts in ticks of 10 ms: over a shorter watch than this the
// count is too coarse to tell, and others_busy stays unknown.
inline constexpr double shortest_watch_seconds = 0.25;

// The CPUs this process may run on, from its affinity mask.
std::vector<int> usable_cpus();

// Watches the machine from construction on. Not thread-safe: one thread
// starts it and reads it, and the CPU time counted as this process's own
// is that of all its threads and of the child processes waited for by then.
class load_watch {
 public:
  load_watch();

  // The figures now; others_busy covers the time since construction (unknown
  // before shortest_watch_seconds).
  load_figures figures() const;

 private:
  std::vector<int> cpus_;
  std::optional<cpu_ticks> start_ticks_;
  double start_own_seconds_ = 0;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace lab::demos
