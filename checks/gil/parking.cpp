#include "parking.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <csignal>
#include <mutex>

namespace parking {
namespace {

// SIGUSR1: neither the harness nor the student's lock uses it.
constexpr int park_signal = SIGUSR1;

// Shared with the signal handler, so lock-free atomics only. The gate is an
// int because the handler sleeps on it with a raw futex, which is
// async-signal-safe (std::atomic::wait is not promised to be).
std::atomic<int> gate{1};             // 0: a thread that gets the signal stays; 1: it goes on
std::atomic<bool> in_handler{false};  // a thread is held in the handler now
static_assert(std::atomic<int>::is_always_lock_free && sizeof(std::atomic<int>) == sizeof(int));

// Runs on the parked thread, wherever the signal found it (most often asleep
// in the student's condition variable, which the kernel wakes to run this).
// Seq_cst throughout: a handful of operations, no need to be clever.
void on_park_signal(int) {
  const int saved_errno = errno;
  in_handler.store(true);
  while (gate.load() == 0)
    syscall(SYS_futex, reinterpret_cast<int*>(&gate), FUTEX_WAIT_PRIVATE, 0, nullptr, nullptr, 0);
  in_handler.store(false);
  errno = saved_errno;
}

void install_handler() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction action {};
    action.sa_handler = on_park_signal;
    sigemptyset(&action.sa_mask);
    // SA_RESTART: the student's blocking call goes on after the handler, as
    // if nothing had happened but a long pause.
    action.sa_flags = SA_RESTART;
    sigaction(park_signal, &action, nullptr);
  });
}

}  // namespace

void park(pthread_t thread) {
  install_handler();
  gate.store(0);
  pthread_kill(thread, park_signal);
}

bool parked() {
  return in_handler.load();
}

void unpark() {
  gate.store(1);
  syscall(SYS_futex, reinterpret_cast<int*>(&gate), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr,
          0);
}

}  // namespace parking
