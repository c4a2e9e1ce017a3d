// lab::todo marks the exact place in a stub where the student has work to do.
//
// Calling it throws lab::not_done, which the check harness reports as
// "not done yet: <what> (exercises/primes.cpp:42)" instead of a failure
// with a stack of confusing consequences.
#pragma once

#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>

namespace lab {

class not_done : public std::logic_error {
 public:
  not_done(std::string_view what, std::source_location where);
  const std::source_location& where() const noexcept { return where_; }

 private:
  std::source_location where_;
};

// Throws not_done naming `what` and the caller's file:line.
// Also records the message so that the harness can still name it if the
// exception escapes a thread and ends the program.
[[noreturn]] void todo(std::string_view what,
                       std::source_location where = std::source_location::current());

// The message of the most recent todo() in this process, or "" if none.
std::string last_todo_message();

}  // namespace lab

namespace lab::detail {
// Forgets the last todo() message; the check harness calls it before each check.
void clear_last_todo();

// Called by todo() with its message, after recording it, on the thread that
// called todo(). The check harness listens so that a crash after a todo()
// can still name it (its signal handler cannot ask for the message then).
using todo_listener = void (*)(const std::string& message);
// Sets the listener (nullptr: none). Call before the threads that may call todo() start.
void set_todo_listener(todo_listener listener);

// Records `message`, the whole line a todo() made ("not done yet: ...
// (exercises/echo_server.cpp:40)"), as the last todo() of this process, as
// todo() itself would. For a check that runs the student's code in a
// fork()ed child: the child hit the todo() and told the parent its message.
void record_todo(const std::string& message);
}  // namespace lab::detail
