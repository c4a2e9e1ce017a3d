// End-to-end: the server demos, in their boxes, with real clients on the
// loopback. Each test asserts what the server's design makes certain (an
// order of events), never a speed: the blocking server cannot answer the
// small client before the big one hangs up; the select loop cannot answer
// anyone while it computes; select() cannot watch descriptor 1024.
#include <doctest/doctest.h>

#include <regex>
#include <string>

#include "lab_process.hpp"

using lab_test::run_lab;

namespace {

bool has(const lab_test::lab_run& run, const std::string& text) {
  return run.out.find(text) != std::string::npos;
}

// The counts of the crowd line: connected, echoed, turned away, silent.
std::vector<long> crowd_counts(const std::string& out) {
  std::smatch m;
  static const std::regex line(R"((\d+) connected: (\d+) echoed, (\d+) turned away, (\d+) silent)");
  if (!std::regex_search(out, m, line)) return {};
  return {std::stol(m[1]), std::stol(m[2]), std::stol(m[3]), std::stol(m[4])};
}

}  // namespace

TEST_CASE("echo.blocking makes the small client wait until the big client has finished") {
  const auto run = run_lab({"demo", "echo.blocking", "big_kb=512"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(has(run, "big client:   0.5 MB echoed intact"));
  CHECK(has(run, "Its echo came only after the big client had sent its last byte"));
  CHECK(std::regex_search(run.out, std::regex(R"(\"hi\" came back after [0-9.]+ ms)")));
}

TEST_CASE(
    "echo.select answers the small client while the big one streams and stalls on a computation") {
  const auto run = run_lab({"demo", "echo.select", "big_kb=4096", "compute_ms=200", "crowd=0"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(has(run, "big client:   4.0 MB echoed intact"));
  CHECK(has(run, "came back while the big client was still streaming"));
  CHECK(has(run, "B's echo came only once A's computation was over"));
}

TEST_CASE("echo.select turns away the clients beyond FD_SETSIZE and serves the others") {
  const auto run = run_lab({"demo", "echo.select", "big_kb=64", "compute_ms=0", "crowd=1100"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(has(run, "echo.select: turning clients away: descriptor 1024 is beyond select()'s limit"));
  const auto counts = crowd_counts(run.out);
  REQUIRE(counts.size() == 4);
  CHECK(counts[0] == 1100);
  CHECK(counts[2] > 0);
  CHECK(counts[1] + counts[2] == 1100);
  CHECK(counts[3] == 0);
}

TEST_CASE("echo.poll and echo.epoll echo every one of more clients than select can watch") {
  for (const char* name : {"echo.poll", "echo.epoll"}) {
    const auto run = run_lab({"demo", name, "big_kb=4096", "compute_ms=0", "crowd=1100"});
    INFO(name, run.out, run.err);
    CHECK(run.exit_code == 0);
    CHECK(crowd_counts(run.out) == std::vector<long>{1100, 1100, 0, 0});
    CHECK(has(run, "came back while the big client was still streaming"));
  }
}

TEST_CASE("echo.coroutine and echo.green serve side by side on one thread and stall on a computation") {
  for (const char* name : {"echo.coroutine", "echo.green"}) {
    const auto run = run_lab({"demo", name, "big_kb=4096", "compute_ms=200", "crowd=1100"});
    INFO(name, run.out, run.err);
    CHECK(run.exit_code == 0);
    CHECK(has(run, "big client:   4.0 MB echoed intact"));
    CHECK(has(run, "came back while the big client was still streaming"));
    CHECK(has(run, "B's echo came only once A's computation was over"));
    CHECK(crowd_counts(run.out) == std::vector<long>{1100, 1100, 0, 0});
  }
}

TEST_CASE("a thread or a process per client answers one client while another computes") {
  for (const char* name : {"echo.thread_per_client", "echo.process_per_client"}) {
    const auto run = run_lab({"demo", name, "big_kb=256", "compute_ms=300"});
    INFO(name, run.out, run.err);
    CHECK(run.exit_code == 0);
    CHECK(has(run, "B's echo came while A's request was still computing"));
  }
}

TEST_CASE("counting.threaded hands the same number to several clients in 20 rounds out of 20") {
  const auto run = run_lab({"demo", "counting.threaded", "clients=4", "work_ms=50", "rounds=20"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(has(run, "Over 20 rounds: duplicates in 20,"));
  CHECK(has(run, "Several clients got the same number"));
}

TEST_CASE(
    "counting.event_loop hands out unique numbers without a lock to clients served together") {
  const auto run = run_lab({"demo", "counting.event_loop", "clients=4", "work_ms=100", "rounds=3"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(has(run, "Over 3 rounds: duplicates in 0, numbers 1 to 4 each once in 3."));
  CHECK(has(run, "Every client got a number of its own, without a lock, and they were served"));
}

TEST_CASE("counting.green hands out unique numbers without a lock to clients served together") {
  const auto run = run_lab({"demo", "counting.green", "clients=4", "work_ms=100", "rounds=3"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(has(run, "Over 3 rounds: duplicates in 0, numbers 1 to 4 each once in 3."));
  CHECK(has(run, "Every client got a number of its own, without a lock, and they were served"));
}

TEST_CASE("counting.green_wait hands the same number to several clients in 20 rounds out of 20") {
  const auto run = run_lab({"demo", "counting.green_wait", "clients=4", "work_ms=50", "rounds=20"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(has(run, "Over 20 rounds: duplicates in 20,"));
  CHECK(has(run, "Several clients got the same number"));
}

TEST_CASE("counting.naive and counting.locked hand every client a number of its own") {
  for (const char* name : {"counting.naive", "counting.locked"}) {
    const auto run = run_lab({"demo", name, "clients=4", "work_ms=10", "rounds=3"});
    INFO(name, run.out, run.err);
    CHECK(run.exit_code == 0);
    CHECK(has(run, "Over 3 rounds: duplicates in 0, numbers 1 to 4 each once in 3."));
    CHECK(has(run, "One more client, alone afterwards: <5, took"));
    CHECK(has(run, "0 updates lost"));
  }
}
