#include "lab/work_log.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <thread>
#include <vector>

TEST_CASE("the work log counts calls per number and per thread") {
  lab::work_log::start(100);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t] {
      for (long n = t; n < 100; n += 4) lab::work_log::record(n);
    });
  for (auto& thread : threads) thread.join();
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  for (long n = 0; n < 100; ++n) CHECK(log.calls_per_number[static_cast<std::size_t>(n)] == 1);
  REQUIRE(log.workers.size() == 4);
  std::set<pid_t> tids;
  for (const auto& worker : log.workers) {
    CHECK(worker.calls == 25);
    CHECK(worker.pid == getpid());
    tids.insert(worker.tid);
  }
  CHECK(tids.size() == 4);
}

TEST_CASE("the work log sees the calls of forked children") {
  lab::work_log::start(10);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    for (long n = 0; n < 10; ++n) lab::work_log::record(n);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  CHECK(log.calls_per_number[0] == 1);
  CHECK(log.calls_per_number[9] == 1);
  REQUIRE(log.workers.size() == 1);
  CHECK(log.workers[0].pid == child);
}

TEST_CASE("recording without a started log does nothing") {
  lab::work_log::stop();
  lab::work_log::record(5);
  CHECK(lab::work_log::read().calls_per_number.empty());
}

TEST_CASE("a new log starts from zero") {
  lab::work_log::start(5);
  lab::work_log::record(1);
  lab::work_log::start(5);
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  CHECK(log.calls_per_number[1] == 0);
  CHECK(log.workers.empty());
}

namespace {

std::int64_t monotonic_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Polls `ready` (a few milliseconds at most in these tests) and says whether
// it came true within a minute.
template <typename F>
bool eventually(F ready) {
  for (int i = 0; i < 60'000; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return ready();
}

}  // namespace

TEST_CASE("the work log keeps when each worker's first and last call began") {
  lab::work_log::start(10);
  const std::int64_t before = monotonic_now_ns();
  std::thread([] {
    for (long n = 0; n < 10; ++n) lab::work_log::record(n);
  }).join();
  const std::int64_t after = monotonic_now_ns();
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  REQUIRE(log.workers.size() == 1);
  CHECK(before <= log.workers[0].first_call_ns);
  CHECK(log.workers[0].first_call_ns <= log.workers[0].last_call_ns);
  CHECK(log.workers[0].last_call_ns <= after);
}

TEST_CASE("the work log sees that a joined worker thread has ended and was not detached") {
  lab::work_log::start(10);
  std::thread([] { lab::work_log::record(1); }).join();
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  REQUIRE(log.workers.size() == 1);
  CHECK(log.workers[0].ended);
  CHECK_FALSE(log.workers[0].detached);
}

TEST_CASE("the work log sees that a detached worker thread ended detached") {
  lab::work_log::start(10);
  // Shared, not on this stack: nothing orders the detached thread's last
  // look at it before this test ends.
  auto detached = std::make_shared<std::atomic<bool>>(false);
  std::thread([detached] {
    while (!detached->load()) std::this_thread::yield();
    lab::work_log::record(1);
  }).detach();
  detached->store(true);
  CHECK(eventually([] {
    const auto log = lab::work_log::read();
    return log.workers.size() == 1 && log.workers[0].ended;
  }));
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  REQUIRE(log.workers.size() == 1);
  CHECK(log.workers[0].detached);
}

TEST_CASE("the work log does not mark a worker that is still running as ended") {
  lab::work_log::start(10);
  std::atomic<bool> may_end{false};
  std::thread worker([&may_end] {
    lab::work_log::record(1);
    while (!may_end.load()) std::this_thread::yield();
  });
  REQUIRE(eventually([] { return lab::work_log::workers_so_far() == 1; }));
  CHECK_FALSE(lab::work_log::read().workers[0].ended);
  may_end.store(true);
  worker.join();
  CHECK(lab::work_log::read().workers[0].ended);
  lab::work_log::stop();
}

TEST_CASE("workers that meet wait in their first call until all of them have arrived") {
  lab::work_log::start(30);
  lab::work_log::meet(3);
  std::atomic<int> past_first_call{0};
  std::vector<std::thread> threads;
  auto work = [&past_first_call](long from) {
    lab::work_log::record(from);
    past_first_call.fetch_add(1);
    for (long n = from + 1; n < from + 10; ++n) lab::work_log::record(n);
  };
  threads.emplace_back(work, 0L);
  threads.emplace_back(work, 10L);
  REQUIRE(eventually([] { return lab::work_log::workers_so_far() == 2; }));
  CHECK_FALSE(lab::work_log::met());
  CHECK(past_first_call.load() == 0);  // both wait for the third
  threads.emplace_back(work, 20L);
  for (auto& thread : threads) thread.join();
  CHECK(lab::work_log::met());
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  CHECK(past_first_call.load() == 3);
  REQUIRE(log.workers.size() == 3);
  // Met: each one's last call began after every first call.
  for (const auto& a : log.workers)
    for (const auto& b : log.workers) CHECK(a.first_call_ns <= b.last_call_ns);
}

TEST_CASE("release lets a worker that waits alone for a meeting go on") {
  lab::work_log::start(10);
  lab::work_log::meet(2);
  std::thread alone([] {
    for (long n = 0; n < 10; ++n) lab::work_log::record(n);
  });
  REQUIRE(eventually([] { return lab::work_log::calls_so_far() == 1; }));
  lab::work_log::release();
  alone.join();
  CHECK(lab::work_log::calls_so_far() == 10);
  CHECK_FALSE(lab::work_log::met());
  lab::work_log::stop();
}

TEST_CASE("forked children meet too") {
  lab::work_log::start(20);
  lab::work_log::meet(2);
  std::vector<pid_t> children;
  for (long from : {0L, 10L}) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      for (long n = from; n < from + 10; ++n) lab::work_log::record(n);
      _exit(0);
    }
    children.push_back(child);
  }
  for (pid_t child : children) waitpid(child, nullptr, 0);
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  REQUIRE(log.workers.size() == 2);
  CHECK(log.workers[0].first_call_ns <= log.workers[1].last_call_ns);
  CHECK(log.workers[1].first_call_ns <= log.workers[0].last_call_ns);
  CHECK_FALSE(log.workers[0].ended);  // children end with _exit: nothing to mark
}

TEST_CASE("a thread may still end after its log was stopped and another started") {
  lab::work_log::start(10);
  std::atomic<bool> may_end{false};
  std::thread late([&may_end] {
    lab::work_log::record(1);
    while (!may_end.load()) std::this_thread::yield();
  });
  REQUIRE(eventually([] { return lab::work_log::workers_so_far() == 1; }));
  lab::work_log::stop();
  lab::work_log::start(10);
  may_end.store(true);
  late.join();  // it marks its end in the first log's memory, which stays mapped
  CHECK(lab::work_log::read().workers.empty());
  lab::work_log::stop();
}
