// Hidden checks for the gil exercise (exercises/gil.cpp), stage 1: the lock.
//
// One holder at a time, and a waiter woken by every release, even a release
// that lands just as the waiter goes to sleep. Stage 2 runs these too; its
// own checks, the handoff, are in check_handoff.cpp.
//
// No check here judges speed or sets a deadline. The checking thread waits
// by progress (watch.hpp): it fails a check only when the threads got nothing
// done while they had every chance to run, and says "too busy to decide"
// when the machine gave them no chance. The window of a lost wake-up is held
// open on purpose (condvar_hooks.hpp), so that the verdict does not depend on
// luck. Times are only reported.
#include <lab/check.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "condvar_hooks.hpp"
#include "proc_threads.hpp"
#include "student_gil.hpp"
#include "watch.hpp"

namespace {

using namespace std::chrono_literals;
using gil_checks::fresh_gil;

// The switch interval of the checks that test the lock alone: so long that
// no waiter ever asks for a drop, and a waiter that misses its wake-up sleeps
// for good instead of for one interval (which would hide the lost wake-up).
constexpr std::chrono::microseconds no_drop_requests = std::chrono::hours(1);

// The switch interval of the check for two holders at once: short, so that
// with stage 2's code the waiters also ask for drops all the time.
constexpr std::chrono::microseconds short_interval = 1ms;

// Chance (proc_threads.hpp) after which a thread that should have reached a
// point (a waiter its condition variable's wait, a release the mutex) will
// not get there: it sleeps or spins some other way.
constexpr std::chrono::duration<double> not_coming_after = 1ms;

}  // namespace

TEST_CASE("lets only one thread hold the lock at a time") {
  std::mt19937_64 random(lab::check::seed());
  const int threads = std::uniform_int_distribution<int>(2, 6)(random);
  const int rounds = lab::check::under_tsan() ? 2'000 : 20'000;
  INFO("seed ", lab::check::seed(), ": ", threads, " threads x ", rounds, " rounds");
  struct shared {
    student_gil* gil = nullptr;
    std::atomic<int> holders{0}, most_holders{0};
    std::atomic<std::uint64_t> acquisitions{0};  // progress; relaxed, it orders nothing
    std::atomic<int> finished{0};
    long guarded = 0;  // guarded by the student's lock: TSan sees it if the lock does not order
  };
  auto s = std::make_shared<shared>();
  s->gil = fresh_gil(short_interval);
  watch::crew crew;
  for (int t = 0; t < threads; ++t)
    crew.start([s, rounds] {
      for (int i = 0; i < rounds; ++i) {
        gil_acquire(*s->gil);
        s->acquisitions.fetch_add(1, std::memory_order_relaxed);
        const int now = s->holders.fetch_add(1) + 1;
        int most = s->most_holders.load();
        while (now > most && !s->most_holders.compare_exchange_weak(most, now)) {
        }
        ++s->guarded;
        s->holders.fetch_sub(1);
        gil_release(*s->gil);
      }
      s->finished.fetch_add(1, std::memory_order_release);
    });
  const bool finished = watch::until(
      [&] { return s->finished.load(std::memory_order_acquire) == threads; },
      [&] { return s->acquisitions.load(std::memory_order_relaxed); },
      [&] {
        return "after " + std::to_string(s->acquisitions.load()) +
               " acquisitions the threads stopped getting the lock: a waiter was never let in";
      });
  if (!finished) return;
  crew.join();
  if (s->most_holders.load() > 1)
    FAIL_CHECK(s->most_holders.load(), " threads held the lock at the same time");
  if (s->guarded != long{threads} * rounds)
    FAIL_CHECK("a counter guarded by the lock ended at ", s->guarded, " instead of ",
               long{threads} * rounds, ": holders at the same time lost increments");
  destroy(s->gil);
}

TEST_CASE("wakes a waiting thread every time the lock is released") {
  // Two threads, A and B, race a release against a waiter round after round.
  // Each round A takes the lock and opens B's gate, and B goes straight into
  // acquire() and finds the lock taken. In odd rounds the check holds the
  // window of a lost wake-up open (condvar_hooks.hpp): B, about to sleep on the
  // condition variable with mu_ held, waits there until A's release has
  // returned or is blocked on mu_. A release that clears the flag and
  // notifies without mu_ returns: B then sleeps through its only wake-up,
  // and the rounds stop for good. In even rounds nothing is held: A lets go
  // after a short seeded pause, so that the release lands anywhere on B's
  // way to sleep.
  const int rounds = lab::check::under_tsan() ? 200 : 2'000;
  constexpr int longest_pause = 2'000;  // spins: about a microsecond, B's way from gate to sleep
  INFO("seed ", lab::check::seed(), ": ", rounds, " rounds");
  std::mt19937_64 random(lab::check::seed());
  std::uniform_int_distribution<int> pause(0, longest_pause);
  struct shared {
    student_gil* gil = nullptr;
    std::vector<int> pauses;  // A's pause before releasing in even rounds; read-only
    std::atomic<long> a_tid{0};
    std::atomic<int> opened{0};     // the last round whose gate A opened, holding the lock
    std::atomic<int> at_wait{0};    // the last round in which B was held at its wait
    std::atomic<int> releasing{0};  // the last round in which A called release()
    std::atomic<int> released{0};   // ...and release() returned
    std::atomic<int> finished{0};   // the last round B finished, lock released
    std::atomic<long> b_tid{0};
    int b_round = 0;  // B's round; B's own (its wait hook runs on B)
  };
  // A, in a held round: waits until B is held at its wait. A lock whose
  // waiters do not sleep on a condition variable never gets there: then A
  // goes on once B sleeps elsewhere or has had its chance to get there.
  const auto await_waiter_at_its_wait = [](const shared& s, int round) {
    watch::await_a_while(s.at_wait, round);
    const proc_threads::chance_meter chance(s.b_tid.load());
    while (s.at_wait.load() < round && !proc_threads::asleep(s.b_tid.load()) &&
           chance.seconds() < not_coming_after.count())
      std::this_thread::yield();
  };
  auto s = std::make_shared<shared>();
  for (int i = 0; i <= rounds; ++i) s->pauses.push_back(pause(random));
  s->gil = fresh_gil(no_drop_requests);
  const auto held_round = [](int round) { return round % 2 == 1; };
  watch::crew crew;
  crew.start([s, rounds, held_round, await_waiter_at_its_wait] {  // A
    s->a_tid.store(proc_threads::this_thread_id());
    while (s->b_tid.load() == 0) std::this_thread::yield();  // A's waits look at B in /proc
    for (int round = 1; round <= rounds; ++round) {
      gil_acquire(*s->gil);
      watch::publish(s->opened, round);
      if (held_round(round))
        await_waiter_at_its_wait(*s, round);
      else
        watch::spin(s->pauses[static_cast<std::size_t>(round)]);
      watch::publish(s->releasing, round);
      gil_release(*s->gil);
      watch::publish(s->released, round);
      watch::await(s->finished, round);
    }
  });
  crew.start([s, rounds, held_round] {  // B
    s->b_tid.store(proc_threads::this_thread_id());
    // At B's first wait of a held round: tell A to release, and stay here,
    // mu_ held, until the release has returned or waits for mu_ (asleep, or
    // spinning for its chance without getting anywhere).
    condvar_hooks::on_wait_here([s, held_round] {
      const int round = s->b_round;
      if (!held_round(round) || s->at_wait.load() >= round) return;
      watch::publish(s->at_wait, round);
      while (s->releasing.load() < round) std::this_thread::yield();
      const proc_threads::chance_meter chance(s->a_tid.load());
      while (s->released.load() < round && !proc_threads::asleep(s->a_tid.load()) &&
             chance.seconds() < not_coming_after.count())
        std::this_thread::yield();
    });
    for (int round = 1; round <= rounds; ++round) {
      s->b_round = round;
      watch::await(s->opened, round);
      gil_acquire(*s->gil);
      gil_release(*s->gil);
      watch::publish(s->finished, round);
    }
    condvar_hooks::on_wait_here({});
  });
  const bool finished = watch::until(
      [&] { return s->finished.load() == rounds; },
      [&] { return static_cast<std::uint64_t>(s->finished.load()); },
      [&] {
        const int round = s->finished.load() + 1;
        const bool held =
            held_round(round) && s->at_wait.load() >= round && s->released.load() >= round;
        return "in round " + std::to_string(round) + " of " + std::to_string(rounds) +
               " the waiter slept on after the lock was released (a lost wake-up" +
               (held ? ": the release came while the waiter, holding mu_, had found the lock "
                       "taken and was about to sleep on cv_)"
                     : ")") +
               ". release() must clear locked_ while holding mu_, and notify after that, so "
               "that it cannot fall between a waiter's look at the flag and its sleep";
      });
  if (!finished) return;
  crew.join();
  destroy(s->gil);
}
