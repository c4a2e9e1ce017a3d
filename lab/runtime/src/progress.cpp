#include "lab/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "lab/unique_fd.hpp"

namespace lab::check {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// One decimal, as a person would read seconds: "5.0".
std::string one_decimal(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", seconds);
  return text;
}

// The same as read_cpu, leaving out the calling thread: a checking thread
// that waits for its own turn on a busy machine says nothing about whether
// the code under test had a chance.
cpu_reading read_cpu_of_others() {
  return read_cpu(static_cast<long>(gettid()));
}

}  // namespace

cpu_reading read_cpu(long except_thread) {
  cpu_reading total;
  const unique_dir tasks = open_dir("/proc/self/task");
  if (!tasks) return total;
  while (const dirent* entry = readdir(tasks.get())) {
    if (entry->d_name[0] == '.') continue;
    if (std::atol(entry->d_name) == except_thread) continue;
    // "<ns on a CPU> <ns waiting on a run queue> <timeslices>"
    std::ifstream stat(std::string("/proc/self/task/") + entry->d_name + "/schedstat");
    double running_ns = 0, waiting_ns = 0;
    if (stat >> running_ns >> waiting_ns) {
      total.running += running_ns / 1e9;
      total.waiting_cpu += waiting_ns / 1e9;
    }
  }
  return total;
}

std::string wait_report::describe() const {
  switch (result) {
    case wait_result::done:
      return "done after " + one_decimal(waited) + " s";
    case wait_result::stuck:
      return "no progress in " + one_decimal(chance) + " s in which it could run (" +
             one_decimal(stalled) + " s of waiting)";
    case wait_result::too_busy:
      return "the machine was too busy to decide: in " + one_decimal(stalled) +
             " s without progress the program could run for only " + one_decimal(chance) + " s";
  }
  return "";
}

wait_report wait_for_progress(const std::function<bool()>& done,
                              const std::function<std::uint64_t()>& progress,
                              std::chrono::milliseconds patience,
                              std::chrono::milliseconds busy_limit) {
  const double patience_s = std::chrono::duration<double>(patience).count();
  const double busy_limit_s = std::chrono::duration<double>(busy_limit).count();
  const auto started = clock_type::now();
  wait_report report;
  std::uint64_t last_progress = progress();
  auto last_moved = started;
  auto last_poll = started;
  cpu_reading last_cpu = read_cpu_of_others();
  while (!done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const auto now = clock_type::now();
    const std::uint64_t now_progress = progress();
    if (now_progress != last_progress) {
      last_progress = now_progress;
      last_moved = now;
      report.chance = 0;
    }
    // The share of this stretch in which the process was not kept off the
    // CPU: what it ran, against what it ran plus what it waited for a CPU.
    // Nothing of either means every thread was blocked: full chance.
    const cpu_reading cpu = read_cpu_of_others();
    const double ran = std::max(0.0, cpu.running - last_cpu.running);
    const double queued = std::max(0.0, cpu.waiting_cpu - last_cpu.waiting_cpu);
    const double share = ran + queued > 0 ? ran / (ran + queued) : 1.0;
    report.chance += seconds_between(last_poll, now) * share;
    last_cpu = cpu;
    last_poll = now;
    report.stalled = seconds_between(last_moved, now);
    report.waited = seconds_between(started, now);
    if (report.chance >= patience_s) {
      report.result = wait_result::stuck;
      return report;
    }
    if (report.stalled >= busy_limit_s) {
      report.result = wait_result::too_busy;
      return report;
    }
  }
  report.waited = seconds_between(started, clock_type::now());
  report.result = wait_result::done;
  return report;
}

}  // namespace lab::check
