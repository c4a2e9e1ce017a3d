// Whether a thread of the check program sleeps waiting for a given mutex.
//
// A check that holds a lock (or lets the student's code hold one) and wants
// to know whether another thread is held up by it reads
// /proc/self/task/<tid>/syscall: a thread blocked on a std::mutex sleeps in
// the kernel in futex() on the mutex's address. That is an observation, not
// a guess from elapsed time, so it holds on a busy machine too. Used by the
// bank checks (a transfer waiting for an account) and the counting_server
// checks (a handler waiting for the server's lock).
#pragma once

#include <sys/syscall.h>

#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>

namespace lab::check {

// True when thread `tid` of this process sleeps in the kernel waiting for
// the mutex `m`: a futex wait on its address. A std::mutex is a
// pthread_mutex_t, whose futex word glibc keeps first.
inline bool waits_for_mutex(long tid, const std::mutex& m) {
  std::ifstream syscall_file("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long number = -1;
  std::string address;
  if (!(syscall_file >> number >> address) || number != SYS_futex) return false;
  return std::stoull(address, nullptr, 16) == reinterpret_cast<std::uintptr_t>(&m);
}

}  // namespace lab::check
