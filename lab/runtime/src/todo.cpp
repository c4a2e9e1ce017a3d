#include "lab/todo.hpp"

#include <atomic>
#include <mutex>
#include <string>

namespace lab {
namespace {

// The most recent todo() message. Guarded by last_todo_mu: todo() may be
// called from any thread.
std::mutex last_todo_mu;
std::string last_todo;

// Who hears of each todo(): set once (release), read by any thread that
// calls todo() (acquire), so a listener set before the check ran is seen.
std::atomic<detail::todo_listener> listener{nullptr};

std::string format_todo(std::string_view what, const std::source_location& where) {
  return "not done yet: " + std::string(what) + " (" + where.file_name() + ":" +
         std::to_string(where.line()) + ")";
}

}  // namespace

not_done::not_done(std::string_view what, std::source_location where)
    : std::logic_error(format_todo(what, where)), where_(where) {}

void todo(std::string_view what, std::source_location where) {
  not_done error(what, where);
  {
    std::scoped_lock lock(last_todo_mu);
    last_todo = error.what();
  }
  // Outside the lock: the listener takes locks of its own.
  if (const detail::todo_listener hear = listener.load(std::memory_order_acquire))
    hear(error.what());
  throw error;
}

std::string last_todo_message() {
  std::scoped_lock lock(last_todo_mu);
  return last_todo;
}

}  // namespace lab

namespace lab::detail {
void clear_last_todo() {
  std::scoped_lock lock(last_todo_mu);
  last_todo.clear();
}

void record_todo(const std::string& message) {
  {
    std::scoped_lock lock(last_todo_mu);
    last_todo = message;
  }
  // Outside the lock, as in todo().
  if (const todo_listener hear = listener.load(std::memory_order_acquire)) hear(message);
}

void set_todo_listener(todo_listener new_listener) {
  listener.store(new_listener, std::memory_order_release);
}
}  // namespace lab::detail
