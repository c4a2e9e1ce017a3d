// Who holds which lock, and who waits for which.
//
// lesson: locks, slide "Deadlock"
//
// A deadlock is a cycle in this graph: thread 1 waits for lock B, which
// thread 2 holds; thread 2 waits for lock A, which thread 1 holds. Nothing
// in the program can break the cycle, so it lasts forever. lock.deadlock
// watches such a graph and sees the cycle the moment it closes, instead of
// guessing from how long the threads have been quiet.
//
// Each thread waits for at most one lock and each lock has at most one
// holder, so following "waits for, held by" from a thread either ends at a
// thread that is running or comes back round: a cycle.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace lab::demos {

// One step of a cycle: `thread` waits for `lock`, which `holder` holds.
struct wait_edge {
  std::string thread;
  std::string lock;
  std::string holder;
  bool operator==(const wait_edge&) const = default;
};

class wait_for_graph {
 public:
  // What a thread does with a lock. Each is called by the thread it names,
  // about itself; any thread may call them at any time.
  void waiting(const std::string& thread, const std::string& lock);
  void acquired(const std::string& thread, const std::string& lock);  // ends its wait
  void gave_up_waiting(const std::string& thread);
  void released(const std::string& thread, const std::string& lock);

  // A cycle of waits if there is one, starting at the smallest thread name
  // in it (so the same deadlock always reads the same way); empty if none.
  std::vector<wait_edge> find_cycle() const;

  // Tells every thread waiting on this graph's locks to give up (see
  // tracked_mutex): the only way out of a deadlock is for someone outside
  // it to break it.
  void cancel();
  bool cancelled() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> holder_of_;    // lock -> thread; guarded by mu_
  std::map<std::string, std::string> waiting_for_;  // thread -> lock; guarded by mu_

  // Sequentially consistent (the default): set once, read by waiters in
  // their polling loop; not a hot path.
  std::atomic<bool> cancelled_{false};
};

}  // namespace lab::demos
