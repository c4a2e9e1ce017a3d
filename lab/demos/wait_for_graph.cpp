#include "wait_for_graph.hpp"

#include <algorithm>
#include <set>

namespace lab::demos {

void wait_for_graph::waiting(const std::string& thread, const std::string& lock) {
  std::scoped_lock guard(mu_);
  waiting_for_[thread] = lock;
}

void wait_for_graph::acquired(const std::string& thread, const std::string& lock) {
  std::scoped_lock guard(mu_);
  waiting_for_.erase(thread);
  holder_of_[lock] = thread;
}

void wait_for_graph::gave_up_waiting(const std::string& thread) {
  std::scoped_lock guard(mu_);
  waiting_for_.erase(thread);
}

void wait_for_graph::released(const std::string& thread, const std::string& lock) {
  std::scoped_lock guard(mu_);
  auto held = holder_of_.find(lock);
  if (held != holder_of_.end() && held->second == thread) holder_of_.erase(held);
}

std::vector<wait_edge> wait_for_graph::find_cycle() const {
  std::scoped_lock guard(mu_);
  for (const auto& [start, ignored] : waiting_for_) {
    // Follow "waits for, held by" from `start` until it ends or comes back
    // to a thread already on the path.
    std::vector<wait_edge> path;
    std::set<std::string> on_path;
    std::string thread = start;
    bool closed = false;
    for (;;) {
      if (!on_path.insert(thread).second) {
        closed = true;
        break;
      }
      auto wanted = waiting_for_.find(thread);
      if (wanted == waiting_for_.end()) break;  // this thread runs: no cycle this way
      auto held = holder_of_.find(wanted->second);
      if (held == holder_of_.end()) break;  // the lock is free: the thread will get it
      path.push_back({thread, wanted->second, held->second});
      thread = held->second;
    }
    if (!closed) continue;
    // The path may lead into the cycle from outside it: keep the part from
    // the first visit of `thread`, then start it at its smallest name.
    auto first = path.begin();
    while (first->thread != thread) ++first;
    std::vector<wait_edge> cycle(first, path.end());
    auto smallest = std::min_element(cycle.begin(), cycle.end(), [](const auto& a, const auto& b) {
      return a.thread < b.thread;
    });
    std::rotate(cycle.begin(), smallest, cycle.end());
    return cycle;
  }
  return {};
}

void wait_for_graph::cancel() {
  cancelled_.store(true);
}

bool wait_for_graph::cancelled() const {
  return cancelled_.load();
}

}  // namespace lab::demos
