#include "proc_threads.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

namespace proc_threads {

long this_thread_id() {
  return static_cast<long>(gettid());
}

char state(long tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return 0;
  const auto close = text.rfind(')');  // the name in parentheses may hold spaces
  return close == std::string::npos || close + 2 >= text.size() ? 0 : text[close + 2];
}

bool asleep(long tid) {
  const char letter = state(tid);
  return letter == 'S' || letter == 'D';
}

double seconds_waiting_for_cpu(long tid) {
  // "<ns on a CPU> <ns waiting on a run queue> <timeslices>"
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/schedstat");
  double running_ns = 0, waiting_ns = 0;
  if (!(stat >> running_ns >> waiting_ns)) return 0;
  return waiting_ns / 1e9;
}

chance_meter::chance_meter(long tid)
    : tid_(tid),
      since_(std::chrono::steady_clock::now()),
      queued_before_(seconds_waiting_for_cpu(tid)) {}

double chance_meter::seconds() const {
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - since_).count();
  return waited - (seconds_waiting_for_cpu(tid_) - queued_before_);
}

}  // namespace proc_threads
