// Reporting a crash: when a check dies of a signal, lab hears which check
// it was (and the stub's todo() it hit, if any) before the program dies.
//
// A signal handler may call only async-signal-safe functions: no malloc, no
// locks, no JSON. So the line is prepared in normal context, at each check's
// start and at each todo(), up to its last field, the signal number; the
// handler copies it, appends the number's digits and crash_suffix(), writes
// it with one write_all, and raises the signal again to die of it.
//
// Private to check_main.cpp (see check_channel.hpp).
#pragma once

#ifndef LAB_CHECK_MAIN_TRANSLATION_UNIT
#error private to check_main.cpp: include it there only
#endif

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>

#include "check_channel.hpp"
#include "lab/protocol.hpp"
#include "lab/todo.hpp"

namespace lab::check {
namespace {

// The crash line's start for the check in progress; nullptr when no check is
// in progress (a crash then reports nothing, and lab sees a bare signal).
// Published with release, read by the handler with acquire, on whichever
// thread crashed, so the handler sees the whole text. A published buffer is
// never changed or freed: a handler that loaded it just before a newer one
// was published may still be copying it, and nothing could tell us when it
// is done (the handler may take no lock and can wait for no one). Leaking
// costs a few hundred bytes per check and per new todo() message.
std::atomic<const std::string*> crash_prefix_now{nullptr};
static_assert(std::atomic<const std::string*>::is_always_lock_free,
              "the signal handler reads it: a lock inside the atomic could deadlock");

// What the published prefix says. Guarded by crash_context_mu: the
// reporter's thread sets the check, any thread may hit a todo().
std::mutex crash_context_mu;
std::optional<std::string> crash_check;  // the check in progress
std::string crash_todo;                  // the todo() it hit, or ""

// The handler's own buffer for the whole line, and its fd. Room for the
// prefix, then at most 11 characters of a number and the suffix.
constexpr std::size_t crash_line_capacity = 64 << 10;
constexpr std::size_t crash_prefix_max = crash_line_capacity - 64;
char crash_line[crash_line_capacity];
int crash_fd = -1;  // set before the handlers are installed, read-only after
// Set by the first thread to report: a second crash (another thread, at
// once) only dies. Relaxed: only which thread wins matters, nothing is
// published through it.
std::atomic_flag crash_reported;

// Publishes the prefix for crash_check and crash_todo. Caller holds
// crash_context_mu. A check name or todo message too long for the handler's
// buffer is cut in half until the line fits.
void publish_crash_prefix() {
  if (!crash_check) {
    crash_prefix_now.store(nullptr, std::memory_order_release);
    return;
  }
  std::string check = *crash_check;
  std::string todo = crash_todo;
  std::string prefix = protocol::crash_prefix(check, todo, channel().secret());
  while (prefix.size() > crash_prefix_max && !(check.empty() && todo.empty())) {
    check.resize(check.size() / 2);
    todo.resize(todo.size() / 2);
    prefix = protocol::crash_prefix(check, todo, channel().secret());
  }
  const std::string* published =
      prefix.size() <= crash_prefix_max ? new std::string(std::move(prefix)) : nullptr;
  crash_prefix_now.store(published, std::memory_order_release);
}

// A check starts (reporter's thread, normal context).
void crash_context_enter(const std::string& check) {
  std::scoped_lock lock(crash_context_mu);
  crash_check = check;
  crash_todo.clear();
  publish_crash_prefix();
}

// The check ended: a crash from now on is nobody's.
void crash_context_leave() {
  std::scoped_lock lock(crash_context_mu);
  crash_check.reset();
  crash_todo.clear();
  publish_crash_prefix();
}

// lab::todo() was hit, on any thread (normal context): a crash after it
// names it. The same message again publishes nothing new.
void crash_context_todo(const std::string& message) {
  std::scoped_lock lock(crash_context_mu);
  if (!crash_check || crash_todo == message) return;
  crash_todo = message;
  publish_crash_prefix();
}

// Appends the decimal digits of `number` (>= 0) at `out`; returns the end.
char* append_digits(char* out, int number) {
  char reversed[16];
  int count = 0;
  do {
    reversed[count++] = static_cast<char>('0' + number % 10);
    number /= 10;
  } while (number > 0 && count < 16);
  while (count > 0) *out++ = reversed[--count];
  return out;
}

// The handler: async-signal-safe (getpid, write, raise; no allocation, no
// lock). In a child that student code forked it only dies: the child is not
// the harness and must not report.
void on_crash(int signal_number) {
  if (getpid() == the_harness_pid && !crash_reported.test_and_set(std::memory_order_relaxed)) {
    if (const std::string* prefix = crash_prefix_now.load(std::memory_order_acquire)) {
      char* end = crash_line;
      end = std::copy(prefix->data(), prefix->data() + prefix->size(), end);
      end = append_digits(end, signal_number);
      for (const char* suffix = protocol::crash_suffix(); *suffix != '\0'; ++suffix)
        *end++ = *suffix;
      protocol::write_all(crash_fd, crash_line, static_cast<std::size_t>(end - crash_line));
    }
  }
  // SA_RESETHAND put back the default action: raised again, the signal ends
  // the program as it would have without this handler (its status tells lab
  // the signal, and a core dump shows the original fault).
  raise(signal_number);
}

// Installs on_crash for the signals a crashing check dies of, on an
// alternate stack for the main thread (a stack overflow leaves no room to
// run a handler on the stack that overflowed). Other threads have no
// alternate stack; a stack overflow there ends the program unreported.
// Call once, from main(), before the checks run.
void install_crash_reporting() {
  crash_fd = channel().fd();
  lab::detail::set_todo_listener(crash_context_todo);
  // The stack must outlive every signal the main thread can take, to the
  // very end: it is never freed.
  const long wanted = sysconf(_SC_SIGSTKSZ);
  const std::size_t stack_size =
      std::max<std::size_t>(64 << 10, wanted > 0 ? static_cast<std::size_t>(wanted) : 0);
  stack_t stack{};
  stack.ss_sp = new char[stack_size];
  stack.ss_size = stack_size;
  sigaltstack(&stack, nullptr);

  struct sigaction action {};
  action.sa_handler = on_crash;
  sigemptyset(&action.sa_mask);
  action.sa_flags = static_cast<int>(SA_RESETHAND | SA_ONSTACK);  // sa_flags is an int
  for (const int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT})
    sigaction(signal_number, &action, nullptr);
}

}  // namespace
}  // namespace lab::check
