#include "lab/todo.hpp"

#include <mutex>
#include <string>

namespace lab {
namespace {

// The most recent todo() message. Guarded by last_todo_mu: todo() may be
// called from any thread.
std::mutex last_todo_mu;
std::string last_todo;

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
}  // namespace lab::detail
