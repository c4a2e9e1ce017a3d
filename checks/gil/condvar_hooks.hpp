// What the check sees of the condition variables in its program: each
// thread's waits, as they begin, and its notifies, counted.
//
// This check program defines pthread_cond_wait, pthread_cond_timedwait,
// pthread_cond_clockwait, pthread_cond_signal and pthread_cond_broadcast
// itself. A program's own definitions come before the C library's, for the
// student's code and for libstdc++'s alike, so every std::condition_variable
// call passes through them; each does what the check asked for the calling
// thread, then calls the C library's function (under ThreadSanitizer, its
// interceptor), so the call does what it always does.
//
// Why the checks want this:
//   * A lost wake-up lives in a window a few instructions wide: the waiter
//     has looked at the flag under the mutex, found the lock taken, and is
//     about to sleep. A release that clears the flag and notifies without
//     the mutex can fall right into it, and the waiter sleeps through its
//     only wake-up. A free race hits that window by luck, and hardly ever on
//     a busy machine; a hook at the start of the wait holds it open.
//   * Letting go of the lock always wakes whoever waits for it (a notify).
//     A thread alone at its safepoints that notifies is letting go for
//     nobody, whether or not it then blocks: counting notifies counts drops.
//
// lesson: gil
#pragma once

#include <cstdint>
#include <functional>

namespace condvar_hooks {

// From now on, each time the calling thread is about to sleep on a condition
// variable, at_wait() runs first on it: with the mutex still held, the
// waiter's condition already checked. An empty function stops it. at_wait
// must not wait on a condition variable itself (it would not be hooked).
void on_wait_here(std::function<void()> at_wait);

// How many times the calling thread has notified a condition variable
// (notify_one or notify_all) so far.
std::uint64_t notifies_here();

}  // namespace condvar_hooks
