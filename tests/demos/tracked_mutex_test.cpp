// Tracked mutexes on real threads: they exclude like a mutex, their graph
// sees a real deadlock form, a cancel ends it, and std::scoped_lock works
// with them. Every wait here is bounded.
#include "tracked_mutex.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "spin_gate.hpp"

using namespace std::chrono_literals;
using lab::demos::gave_up;
using lab::demos::name_this_thread;
using lab::demos::spin_gate;
using lab::demos::tracked_mutex;
using lab::demos::wait_for_graph;

namespace {

// Polls until `done` holds or `limit` passes; true if it held.
template <typename Condition>
bool eventually(Condition done, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a tracked mutex lets one thread at a time in") {
  wait_for_graph graph;
  tracked_mutex mu("lock", graph);
  long count = 0;  // guarded by mu
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        std::scoped_lock hold(mu);
        ++count;
      }
    });
  for (auto& thread : threads) thread.join();
  CHECK(count == 8000);
}

TEST_CASE("opposite lock orders deadlock and the graph names who waits for what") {
  wait_for_graph graph;
  tracked_mutex a("lock A", graph), b("lock B", graph);
  spin_gate both_hold_one(2);
  std::atomic<int> gave_up_count{0}, finished_count{0};
  const auto take = [&](const char* name, tracked_mutex& first, tracked_mutex& second) {
    name_this_thread(name);
    try {
      std::scoped_lock hold_first(first);
      both_hold_one.arrive_and_wait();
      std::scoped_lock hold_second(second);
      finished_count.fetch_add(1);
    } catch (const gave_up&) {
      gave_up_count.fetch_add(1);
    }
  };
  std::thread one(take, "thread 1", std::ref(a), std::ref(b));
  std::thread two(take, "thread 2", std::ref(b), std::ref(a));
  const bool seen = eventually([&] { return !graph.find_cycle().empty(); });
  const auto cycle = graph.find_cycle();
  graph.cancel();  // in every case, so that the threads end and the test can too
  one.join();
  two.join();
  REQUIRE(seen);
  REQUIRE(cycle.size() == 2);
  CHECK(cycle[0].thread == "thread 1");
  CHECK(cycle[0].lock == "lock B");
  CHECK(cycle[0].holder == "thread 2");
  CHECK(cycle[1].thread == "thread 2");
  CHECK(cycle[1].lock == "lock A");
  CHECK(cycle[1].holder == "thread 1");
  // Once one thread gives up and lets go, the other may get its lock before
  // it notices the cancel: then it finishes. But someone had to give up.
  CHECK(gave_up_count.load() >= 1);
  CHECK(gave_up_count.load() + finished_count.load() == 2);
  // Both gave up and unwound: the locks are free again.
  CHECK(a.try_lock());
  CHECK(b.try_lock());
  a.unlock();
  b.unlock();
}

TEST_CASE("scoped_lock over tracked mutexes in opposite orders never deadlocks") {
  wait_for_graph graph;
  tracked_mutex a("lock A", graph), b("lock B", graph);
  long transfers = 0;  // guarded by a and b both
  std::atomic<bool> cycle_seen{false};
  std::atomic<int> running{2};
  const auto work = [&](tracked_mutex& x, tracked_mutex& y) {
    try {
      for (int i = 0; i < 300; ++i) {
        std::scoped_lock both(x, y);
        ++transfers;
      }
    } catch (const gave_up&) {
      // cancelled below because it did not finish: the CHECKs report it
    }
    running.fetch_sub(1);
  };
  std::thread one(work, std::ref(a), std::ref(b));
  std::thread two(work, std::ref(b), std::ref(a));
  const bool finished = eventually([&] {
    if (!graph.find_cycle().empty()) cycle_seen.store(true);
    return running.load() == 0;
  });
  if (!finished) graph.cancel();  // a deadlock after all: end it, and fail below
  one.join();
  two.join();
  CHECK(finished);
  CHECK_FALSE(cycle_seen.load());
  CHECK(transfers == 600);
}
