#include "condvar_hooks.hpp"

#include <dlfcn.h>
#include <pthread.h>

#include <ctime>
#include <utility>

namespace condvar_hooks {
namespace {

thread_local std::function<void()> at_wait_here;  // this thread's hook, or empty
thread_local bool in_hook = false;                // a hook that waits is not hooked again
thread_local std::uint64_t notifies = 0;          // this thread's notifies so far

void before_sleeping() {
  if (!at_wait_here || in_hook) return;
  in_hook = true;
  at_wait_here();
  in_hook = false;
}

// The next definition of `name` after this program's own: the C library's,
// or under ThreadSanitizer its interceptor, which then calls the C library's.
template <typename Function>
Function next_definition(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

}  // namespace

void on_wait_here(std::function<void()> at_wait) {
  at_wait_here = std::move(at_wait);
}

std::uint64_t notifies_here() {
  return notifies;
}

}  // namespace condvar_hooks

extern "C" {

int pthread_cond_wait(pthread_cond_t* cond, pthread_mutex_t* mutex) {
  using function = int (*)(pthread_cond_t*, pthread_mutex_t*);
  static const auto next = condvar_hooks::next_definition<function>("pthread_cond_wait");
  condvar_hooks::before_sleeping();
  return next(cond, mutex);
}

int pthread_cond_timedwait(pthread_cond_t* cond, pthread_mutex_t* mutex,
                           const struct timespec* until) {
  using function = int (*)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
  static const auto next = condvar_hooks::next_definition<function>("pthread_cond_timedwait");
  condvar_hooks::before_sleeping();
  return next(cond, mutex, until);
}

int pthread_cond_clockwait(pthread_cond_t* cond, pthread_mutex_t* mutex, clockid_t clock,
                           const struct timespec* until) {
  using function = int (*)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const struct timespec*);
  static const auto next = condvar_hooks::next_definition<function>("pthread_cond_clockwait");
  condvar_hooks::before_sleeping();
  return next(cond, mutex, clock, until);
}

int pthread_cond_signal(pthread_cond_t* cond) {
  using function = int (*)(pthread_cond_t*);
  static const auto next = condvar_hooks::next_definition<function>("pthread_cond_signal");
  ++condvar_hooks::notifies;
  return next(cond);
}

int pthread_cond_broadcast(pthread_cond_t* cond) {
  using function = int (*)(pthread_cond_t*);
  static const auto next = condvar_hooks::next_definition<function>("pthread_cond_broadcast");
  ++condvar_hooks::notifies;
  return next(cond);
}

}  // extern "C"
