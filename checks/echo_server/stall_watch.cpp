#include "stall_watch.hpp"

#include <lab/progress.hpp>

#include <algorithm>
#include <cstdio>

namespace echo_check {

stall_watch::stall_watch(pid_t pid) : pid_(pid) {
  progressed();
}

void stall_watch::progressed() {
  since_ = clock::now();
  at_progress_ = read_figures(pid_);
  own_waiting_at_progress_ = lab::check::read_cpu().waiting_cpu;
  stalled_ = chance_ = cpu_ = 0;
}

stall_watch::verdict stall_watch::look() {
  const server_figures now = read_figures(pid_);
  stalled_ = std::chrono::duration<double>(clock::now() - since_).count();
  cpu_ = now.cpu_seconds - at_progress_.cpu_seconds;
  const double own_waiting = lab::check::read_cpu().waiting_cpu - own_waiting_at_progress_;
  chance_ = std::max(0.0, stalled_ - (now.waiting_cpu - at_progress_.waiting_cpu) - own_waiting);
  if (chance_ >= patience_seconds) return verdict::stuck;
  if (stalled_ >= busy_limit_seconds) return verdict::too_busy;
  return verdict::keep_waiting;
}

std::string in_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", seconds);
  return text;
}

std::string stall_watch::stuck_words() const {
  // A server that waits in the kernel uses next to no CPU; one that loops
  // uses all the chance it gets. Half is far from both.
  if (burning())
    return "CPU burnt with no progress: the server used " + in_seconds(cpu_) + " of CPU in the " +
           in_seconds(stalled_) +
           " in which no byte moved (a busy loop: a loop that polls without waiting, or retries a "
           "call that keeps failing?)";
  const std::string call = blocking_call(pid_);
  return "blocked with no progress: the server sat blocked" + (call.empty() ? "" : " in " + call) +
         " for " + in_seconds(stalled_) + " while no byte moved, using " + in_seconds(cpu_) +
         " of CPU (a deadlock: it waits for something that never comes)";
}

}  // namespace echo_check
