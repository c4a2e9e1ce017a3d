#include "tracked_mutex.hpp"

#include <chrono>
#include <sstream>
#include <thread>

namespace lab::demos {
namespace {

// Empty until named; then the name the graph knows this thread by.
thread_local std::string this_thread_name;

// The calling thread's name, or one made from its id: two threads must never
// share a name, or the graph would take them for one thread waiting on itself.
const std::string& me() {
  if (this_thread_name.empty()) {
    std::ostringstream id;
    id << "thread " << std::this_thread::get_id();
    this_thread_name = id.str();
  }
  return this_thread_name;
}

}  // namespace

void name_this_thread(std::string name) {
  this_thread_name = std::move(name);
}

void tracked_mutex::lock() {
  if (try_lock()) return;
  graph_.waiting(me(), name_);
  // Polls instead of blocking in mu_.lock(), so that a cancel can reach it.
  // A tenth of a millisecond is short beside the demos' pauses, and long
  // enough not to busy a core.
  while (!mu_.try_lock()) {
    if (graph_.cancelled()) {
      graph_.gave_up_waiting(me());
      throw gave_up();
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  graph_.acquired(me(), name_);
}

bool tracked_mutex::try_lock() {
  if (!mu_.try_lock()) return false;
  graph_.acquired(me(), name_);
  return true;
}

void tracked_mutex::unlock() {
  // Tell the graph first: once mu_ is free another thread may take it and
  // record itself as the holder, which this thread must not then erase.
  graph_.released(me(), name_);
  mu_.unlock();
}

}  // namespace lab::demos
