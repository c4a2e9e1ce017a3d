// A mutex that tells a wait_for_graph what its threads do with it.
//
// lesson: locks, slide "Deadlock"
//
// It meets the standard's Lockable requirements (lock, try_lock, unlock), so
// std::scoped_lock and std::lock work with it unchanged, and the graph sees
// what they do, back-offs included.
//
// Unlike std::mutex, a thread waiting in lock() can be told to stop: when
// the graph is cancelled, lock() gives up and throws gave_up, and the locks
// the thread already holds are released as its scoped_locks unwind. A thread
// blocked in std::mutex::lock() could never be reached, and a demo that
// deadlocks on purpose must still end.
#pragma once

#include <mutex>
#include <stdexcept>
#include <string>

#include "wait_for_graph.hpp"

namespace lab::demos {

// Thrown by tracked_mutex::lock() when its graph is cancelled.
class gave_up : public std::runtime_error {
 public:
  gave_up() : std::runtime_error("gave up waiting for a lock") {}
};

// Names the calling thread in every graph ("thread 1"). Call it first thing
// in the thread; a thread never named shows as "thread " and its id.
// Precondition: no other thread has the same name.
void name_this_thread(std::string name);

class tracked_mutex {
 public:
  tracked_mutex(std::string name, wait_for_graph& graph) : name_(std::move(name)), graph_(graph) {}
  tracked_mutex(const tracked_mutex&) = delete;
  tracked_mutex& operator=(const tracked_mutex&) = delete;

  // Waits until the calling thread holds it. Throws gave_up if the graph is
  // cancelled first. Precondition: the calling thread does not hold it.
  void lock();
  bool try_lock();
  // Precondition: the calling thread holds it.
  void unlock();

  const std::string& name() const { return name_; }

 private:
  std::mutex mu_;
  const std::string name_;
  wait_for_graph& graph_;
};

}  // namespace lab::demos
