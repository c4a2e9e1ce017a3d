#include "lab/work_log.hpp"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

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
