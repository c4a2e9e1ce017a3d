// The convoy effect: an I/O-bound thread beside a CPU-bound one under the GIL.
//
// lesson: gil, slide "The convoy effect"
//
//   gil.convoy  a thread answers pings over a socket pair. It holds the GIL
//               analogue like any Python thread, and lets go of it only while
//               blocked in read() or write(), as CPython does around blocking
//               calls. Each time a ping wakes it, it must get the GIL back
//               before it can answer. Alone that is instant; beside a thread
//               that computes, it waits for the switch interval to run out
//               and the computing thread to hand the lock over at a safepoint.
//               The demo times the round trips, alone and beside a CPU-bound
//               thread, for several switch intervals.
#include <fmt/core.h>
#include <sys/socket.h>
#include <unistd.h>
#include <lab/gil.hpp>
#include <lab/primes.hpp>
#include <lab/timing.hpp>
#include <lab/unique_fd.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "verdict.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

// Round-trip figures of one run, in milliseconds.
struct latency {
  double p50 = 0;
  double p99 = 0;
};

// The I/O-bound thread: answers each byte read from `fd` with the same byte,
// until the other end closes. Runs "interpreted": it holds the GIL except
// inside the blocking calls.
void answer_pings(int fd) {
  gil_hold interpreted;
  char byte = 0;
  for (;;) {
    ssize_t got = 0;
    {
      gil_release blocking;  // read() blocks: let other threads run meanwhile
      got = read(fd, &byte, 1);
    }                      // ...and take the GIL back before touching anything: here is the wait
    if (got != 1) return;  // the client closed its end
    gil_release blocking;
    if (write(fd, &byte, 1) != 1) return;
  }
}

// The CPU-bound thread: computes, holding the GIL, with a safepoint every
// few steps (the eval loop's check for a drop request; the student's spacing
// setting, 64 by default), until told to stop.
// `stop` is relaxed: it only ends the loop, and join() orders the rest.
void compute(const std::atomic<bool>& stop) {
  const long spacing = safepoint_spacing();
  gil_hold interpreted;
  [[maybe_unused]] volatile long sink = 0;
  for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    sink = i;
    if (i % spacing == 0) gil::safepoint();
  }
}

// Times `pings` round trips to the I/O thread, with or without a CPU-bound
// thread beside it. The client (this thread) is outside the "interpreter":
// it never takes the GIL, like a client in another process.
latency ping_round_trips(long pings, bool beside_cpu) {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
    throw std::runtime_error("socketpair failed");
  unique_fd client_end(ends[0]);
  const unique_fd server_end(ends[1]);  // outlives the server thread: it is joined before
  std::thread server(answer_pings, server_end.get());
  std::atomic<bool> stop{false};
  std::thread cpu;
  if (beside_cpu) cpu = std::thread(compute, std::cref(stop));
  std::vector<double> round_trips;
  char byte = 'x';
  for (long i = 0; i < pings; ++i) {
    // A pause between pings, as between requests: the I/O thread is back in
    // read(), without the GIL, when the next ping arrives.
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    const auto start = clock_type::now();
    if (write(client_end.get(), &byte, 1) != 1 || read(client_end.get(), &byte, 1) != 1) break;
    round_trips.push_back(
        std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
  }
  client_end.reset();  // the I/O thread's read() returns 0 and it ends
  server.join();
  stop.store(true, std::memory_order_relaxed);
  if (cpu.joinable()) cpu.join();
  if (round_trips.empty()) throw std::runtime_error("the ping thread stopped answering");
  return {percentile_of(round_trips, 0.50), percentile_of(round_trips, 0.99)};
}

int run_convoy(const params& p) {
  const auto intervals_ms = p.reals("interval_ms");
  const long pings = p.number("pings");
  fmt::print(
      "{} ping round trips over a socket pair to a thread that holds the GIL analogue except\n"
      "while blocked in read() and write(); alone, then beside a CPU-bound thread\n\n",
      pings);
  fmt::print("{:>9}  {:>11} {:>11}  {:>11} {:>11}  {:>9}\n", "interval", "alone p50", "alone p99",
             "beside p50", "beside p99", "p99 ratio");
  const load_watch watch;
  bool first = true;
  std::vector<claim> claims;
  for (double interval_ms : intervals_ms) {
    gil::set_switch_interval(std::chrono::microseconds(std::lround(interval_ms * 1000)));
    const latency alone = ping_round_trips(pings, false);
    const latency beside = ping_round_trips(pings, true);
    const double ratio = beside.p99 / alone.p99;
    fmt::print("{:>6g} ms  {:>8.3f} ms {:>8.3f} ms  {:>8.3f} ms {:>8.3f} ms  {:>8.1f}x\n",
               interval_ms, alone.p50, alone.p99, beside.p50, beside.p99, ratio);
    std::fflush(stdout);
    if (first) {  // lab bench compares the first interval (5 ms by default) with its target
      report_metric("p99_alone_ms", alone.p99, "ms");
      report_metric("p99_beside_cpu_ms", beside.p99, "ms");
      report_metric("p99_ratio", ratio, "x");
      first = false;
    }
    // A reply waits for the GIL at least once: one interval or more. A busy
    // machine only makes it longer, so this needs no free cores.
    claims.push_back({.figure = fmt::format("beside p50 at {:g} ms in intervals", interval_ms),
                      .value = beside.p50 / interval_ms,
                      .bound = 1});
  }
  const auto machine = watch.figures();
  fmt::print("\n{}", verdicts(claims, machine));
  if (std::all_of(claims.begin(), claims.end(),
                  [&](const claim& c) { return judge(c, machine).shown; }))
    fmt::print(
        "\nBeside a computing thread, the I/O thread must win the GIL back after every blocking\n"
        "call, and each time it waits about one switch interval for the holder to let go: after\n"
        "write() and again after read(), so a reply takes about two intervals. That is the convoy\n"
        "effect. A shorter interval shortens the wait, at the price of more switches.\n");
  return 0;
}

// A reply beside the CPU-bound thread waits about two intervals: 1,000 pings
// are about 10 s per row at 5 ms, 40 s at 20 ms.
const registration convoy_demo{
    {.name = "gil.convoy",
     .summary = "ping latency of an I/O thread, alone and beside a CPU-bound one",
     .params = {param::reals("interval_ms", {5, 1, 0.1}, {protocol::settings::interval_ms_min, 20}),
                param::number("pings", 200, {1, 1'000})},
     .run = run_convoy}};

}  // namespace
}  // namespace lab::demos
