// The GIL analogue: mutual exclusion, the handoff after one switch interval,
// the release guard, re-entrancy, and the fresh lock after fork().
#include "lab/gil.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Puts the settings back to their defaults when a test ends.
struct default_settings {
  ~default_settings() {
    lab::gil::set_switch_interval(5ms);
    lab::gil::set_force_switching(true);
  }
};

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Holds the GIL on its own thread, passing safepoints, until told to stop.
struct spinning_holder {
  std::atomic<bool> holding{false};
  std::atomic<bool> stop{false};
  std::thread thread{[this] {
    lab::gil::acquire();
    holding.store(true);
    while (!stop.load()) lab::gil::safepoint();
    lab::gil::release();
  }};
  spinning_holder() {
    while (!holding.load()) std::this_thread::yield();
  }
  ~spinning_holder() {
    stop.store(true);
    thread.join();
  }
};

}  // namespace

TEST_CASE("only one thread holds the GIL at a time") {
  long counter = 0;  // deliberately not atomic: the GIL is its only protection
  std::atomic<int> inside{0};
  std::atomic<int> overlaps{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        lab::gil_hold hold;
        if (inside.fetch_add(1) != 0) overlaps.fetch_add(1);
        const long seen = counter;
        std::this_thread::yield();  // widen the window a race would need
        counter = seen + 1;
        inside.fetch_sub(1);
      }
    });
  for (auto& thread : threads) thread.join();
  CHECK(overlaps.load() == 0);
  CHECK(counter == 4 * 2000);
}

TEST_CASE("a waiting thread gets the lock after about one switch interval") {
  default_settings restore;
  for (auto interval : {5ms, 1ms}) {
    lab::gil::set_switch_interval(interval);
    spinning_holder holder;
    const auto start = std::chrono::steady_clock::now();
    lab::gil::acquire();
    const double waited = milliseconds_since(start);
    lab::gil::release();
    const double asked = std::chrono::duration<double, std::milli>(interval).count();
    MESSAGE("switch interval ", asked, " ms: the waiter waited ", waited, " ms");
    // It cannot get the lock before it asked for it, one interval in; an
    // upper bound far above the interval only proves it was not starved.
    CHECK(waited >= asked * 0.9);
    CHECK(waited < asked + 2000);
  }
}

TEST_CASE("a holder that never reaches a safepoint keeps the lock") {
  std::atomic<bool> released{false};
  std::atomic<bool> holding{false};
  std::thread holder([&] {
    lab::gil::acquire();
    holding.store(true);
    std::this_thread::sleep_for(100ms);  // no safepoint: like a long C call that keeps the GIL
    released.store(true);
    lab::gil::release();
  });
  while (!holding.load()) std::this_thread::yield();
  lab::gil::acquire();
  CHECK(released.load());  // the waiter only got it once the holder let go
  lab::gil::release();
  holder.join();
}

TEST_CASE("gil_release lets another thread run while the holder is blocked") {
  lab::gil_hold hold;
  std::atomic<bool> other_ran{false};
  {
    lab::gil_release blocking_call;
    CHECK_FALSE(lab::gil::held());
    std::thread other([&] {
      lab::gil_hold other_hold;
      other_ran.store(true);
    });
    other.join();  // would never finish if the GIL were still held here
  }
  CHECK(other_ran.load());
  CHECK(lab::gil::held());
}

TEST_CASE("gil_hold is re-entrant on one thread") {
  {
    lab::gil_hold outer;
    {
      lab::gil_hold inner;
      CHECK(lab::gil::held());
    }
    CHECK(lab::gil::held());  // the inner guard did not let go of the outer's lock
  }
  CHECK_FALSE(lab::gil::held());
}

TEST_CASE("gil_release on a thread without the lock does nothing") {
  CHECK_FALSE(lab::gil::held());
  {
    lab::gil_release nothing_to_release;
    CHECK_FALSE(lab::gil::held());
  }
  CHECK_FALSE(lab::gil::held());
}

TEST_CASE("a forked child starts with its own fresh lock") {
  // Another thread holds the GIL and never lets go while we fork.
  std::atomic<bool> holding{false}, stop{false};
  std::thread holder([&] {
    lab::gil::acquire();
    holding.store(true);
    while (!stop.load()) std::this_thread::sleep_for(1ms);  // no safepoint
    lab::gil::release();
  });
  while (!holding.load()) std::this_thread::yield();
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    alarm(5);  // an inherited, held lock would hang here: SIGALRM ends the child instead
    lab::gil::acquire();
    lab::gil::release();
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  stop.store(true);
  holder.join();
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a thread that holds the GIL when it forks still holds it in the child") {
  lab::gil_hold hold;
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) _exit(lab::gil::held() ? 0 : 1);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("forced switching hands the lock to the waiter that asked for it") {
  default_settings restore;
  lab::gil::set_switch_interval(1ms);
  lab::gil::reset_stats();
  {
    spinning_holder holder;
    lab::gil::acquire();
    lab::gil::release();
  }
  const auto stats = lab::gil::get_stats();
  CHECK(stats.drop_requests >= 1);
  CHECK(stats.forced_switches >= 1);
  CHECK(stats.acquisitions >= 2);
}

TEST_CASE("without forced switching a drop request is still answered") {
  default_settings restore;
  lab::gil::set_force_switching(false);
  lab::gil::set_switch_interval(1ms);
  lab::gil::reset_stats();
  {
    spinning_holder holder;
    lab::gil::acquire();  // may take several intervals: the holder can win the race back
    lab::gil::release();
  }
  const auto stats = lab::gil::get_stats();
  CHECK(stats.drop_requests >= 1);
  CHECK(stats.forced_switches == 0);
}

TEST_CASE("two threads passing safepoints both make progress") {
  default_settings restore;
  lab::gil::set_switch_interval(1ms);
  std::atomic<long> progress[2] = {0, 0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      lab::gil_hold hold;
      while (!stop.load()) {
        progress[t].fetch_add(1);
        lab::gil::safepoint();
      }
    });
  // Wait (bounded) until both threads have run: neither starves the other.
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while ((progress[0].load() < 1000 || progress[1].load() < 1000) &&
         std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(1ms);
  stop.store(true);
  for (auto& thread : threads) thread.join();
  CHECK(progress[0].load() >= 1000);
  CHECK(progress[1].load() >= 1000);
}

TEST_CASE("the switch interval can be set and read back") {
  default_settings restore;
  lab::gil::set_switch_interval(250us);
  CHECK(lab::gil::switch_interval() == 250us);
  lab::gil::set_force_switching(false);
  CHECK_FALSE(lab::gil::force_switching());
}
