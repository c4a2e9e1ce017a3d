// Demos of races on shared data.
//
// lesson: races
//
//   race.counter  N threads each do `tmp = n; <work>; n = tmp + 1`: updates get lost.
//   race.bank     two withdrawals of $25 from a balance of $25 both succeed.
//
// A plain `long` written by two threads at once is undefined behaviour in
// C++, so the shared values here are std::atomic with *separate* relaxed
// loads and stores: every single access is well defined, but the
// read-modify-write as a whole is not atomic, which is exactly the race the
// lecture shows (and the one Python has between bytecodes).
#include <fmt/core.h>
#include <lab/gil.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "spin_gate.hpp"
#include "verdict.hpp"

namespace lab::demos {
namespace {

// Busy work between the read and the write: the race's window.
void widen_window(long spins) {
  for (long i = 0; i < spins; ++i) {
    volatile long sink = i;
    (void)sink;
  }
}

// The increment most people write first: `++n` on a plain long. Two
// threads doing this at once is a data race, undefined behaviour in C++ (the
// same code without -O2 loses updates like the windowed version below).
// At -O2 g++ turns the loop into a single `n += iterations`: the read and
// the write are a few instructions apart, once, so two threads rarely hit
// each other's window and the loss is usually zero. Not safe, just lucky.
[[gnu::noinline]] void bare_increments(long& n, long iterations) {
  for (long i = 0; i < iterations; ++i) ++n;
}

// Updates lost when `threads` threads each add 1 to a shared counter
// `iterations` times as `tmp = n; <window spins>; n = tmp + 1`.
long lost_updates(long threads, long iterations, long window, bool under_gil) {
  std::atomic<long> n{0};
  // Starting a thread takes longer than many increments: without a gate the
  // first thread could finish before the second begins.
  spin_gate start(threads);
  std::vector<std::thread> workers;
  for (long t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      start.arrive_and_wait();
      std::optional<gil_hold> interpreted;
      if (under_gil) interpreted.emplace();  // "Python" code: holds the GIL...
      for (long i = 0; i < iterations; ++i) {
        const long tmp = n.load(std::memory_order_relaxed);  // read
        widen_window(window);
        if (under_gil) gil::safepoint();              // ...but may hand it over between "bytecodes"
        n.store(tmp + 1, std::memory_order_relaxed);  // write
      }
    });
  for (auto& worker : workers) worker.join();
  return threads * iterations - n.load();
}

// Updates lost by bare_increments on `threads` threads.
long bare_lost_updates(long threads, long iterations) {
  long n = 0;
  spin_gate start(threads);
  std::vector<std::thread> workers;
  for (long t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      start.arrive_and_wait();
      bare_increments(n, iterations);
    });
  for (auto& worker : workers) worker.join();
  return threads * iterations - n;
}

double percent(long part, long whole) {
  return 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// What in the demo's own parameters can explain a run without lost
// updates; "" if nothing does.
std::string why_no_loss(long threads, bool under_gil, long widest_window) {
  if (threads == 1) return "one thread has nobody to race with";
  if (under_gil)
    return "under the GIL a thread hands over only after a switch interval, so a short run may "
           "never be interrupted between the read and the write; try iterations=1000000";
  if (widest_window < 500) return "the window was too narrow to be hit; try window=500";
  return "";
}

int run_racy_counter(const params& p) {
  const long threads = p.number("threads");
  const long iterations = p.number("iterations");
  const auto windows = p.numbers("window");
  const bool under_gil = p.flag("gil");
  const long expected = threads * iterations;
  fmt::print("{} threads x {} increments of one shared counter{}\n\n", threads, iterations,
             under_gil ? ", under the GIL analogue" : "");
  if (!under_gil) {
    const long lost = bare_lost_updates(threads, iterations);
    fmt::print("bare ++n compiled at -O2: expected {}, got {}: {} updates lost ({:.1f}%)\n",
               expected, expected - lost, lost, percent(lost, expected));
    report_metric("lost_percent_bare", percent(lost, expected), "%");
    fmt::print(
        "  (the compiler made the loop one `n += {}`: a window hit only by bad luck.\n"
        "   Still a data race: run it again, or see race.tsan.)\n\n",
        iterations);
  }
  fmt::print("tmp = n; <window>; n = tmp + 1, with the window widened by busy work:\n");
  const load_watch watch;
  long widest = -1, lost_at_widest = 0;
  for (long window : windows) {
    const long lost = lost_updates(threads, iterations, window, under_gil);
    fmt::print("window {} spins: expected {}, got {}: {} updates lost ({:.1f}%)\n", window,
               expected, expected - lost, lost, percent(lost, expected));
    std::fflush(stdout);
    report_metric(fmt::format("lost_percent_window_{}", window), percent(lost, expected), "%");
    if (window > widest) {
      widest = window;
      lost_at_widest = lost;
    }
  }
  const auto machine = watch.figures();
  const claim lost{
      .figure = fmt::format("updates lost with the widest window ({} spins)", widest),
      .value = static_cast<double>(lost_at_widest),
      .bound = 1,
      .unit = "",
      // Without the GIL both threads must be inside the window at the same
      // moment; under it they never run at once, and a handoff does it.
      .parallel = under_gil ? 1u : 2u,
      .timed = false,
      .lesson = under_gil
                    ? "The GIL analogue did not help: it can change hands at the safepoint "
                      "between\nthe read and the write, so n = tmp + 1 is not atomic under it "
                      "either."
                    : "The wider the window between the read and the write, the likelier the "
                      "other\nthread writes in between, and one of the two updates is lost.",
      .known_cause = why_no_loss(threads, under_gil, widest)};
  fmt::print("{}", describe(lost, judge(lost, machine), machine));
  return 0;
}

int run_bank(const params& p) {
  const long balance_start = p.number("balance");
  const long withdraw = p.number("withdraw");
  const long trials = p.number("trials");
  // The slow step between the check and the act (a database call, say). A
  // sleep lets the other withdrawal run its check meanwhile, even when both
  // threads share one core.
  const long delay_us = p.number("delay_us");
  const load_watch watch;
  long both_succeeded = 0;
  for (long trial = 0; trial < trials; ++trial) {
    std::atomic<long> balance{balance_start};
    std::atomic<int> paid{0};
    spin_gate start(2);  // both customers at the counter at the same moment
    const auto withdrawal = [&] {
      start.arrive_and_wait();
      if (balance.load(std::memory_order_relaxed) >= withdraw) {  // check...
        std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
        balance.store(balance.load(std::memory_order_relaxed) - withdraw,
                      std::memory_order_relaxed);  // ...act
        paid.fetch_add(1);
      }
    };
    std::thread a(withdrawal), b(withdrawal);
    a.join();
    b.join();
    if (paid.load() == 2) ++both_succeeded;
  }
  fmt::print("balance ${}, two withdrawals of ${} at once, {} trials\n", balance_start, withdraw,
             trials);
  fmt::print("both withdrawals succeeded in {} trials ({:.1f}%)\n", both_succeeded,
             percent(both_succeeded, trials));
  report_metric("both_succeeded_percent", percent(both_succeeded, trials), "%");
  if (balance_start < withdraw || balance_start >= 2 * withdraw) {
    fmt::print(
        "(No race to see: the balance covers {} of the two withdrawals either way. Try\n"
        "balance=25 withdraw=25.)\n",
        balance_start < withdraw ? "neither" : "both");
    return 0;
  }
  const claim overdraft{
      .figure = "trials where both withdrawals succeeded",
      .value = static_cast<double>(both_succeeded),
      .bound = 1,
      .unit = "",
      // The sleep between the check and the act lets the other withdrawal
      // check meanwhile, even on one core. Without it both must run at once.
      .parallel = delay_us > 0 ? 1u : 2u,
      .timed = false,
      .lesson = fmt::format(
          "Each time, the bank paid ${} from ${}: both checked the balance before either took\n"
          "the money.",
          2 * withdraw, balance_start),
      .known_cause = delay_us == 0
                         ? "with no delay between the check and the act the window is a few "
                           "instructions wide: the race is rare, which is how such a bug passes "
                           "testing"
                         : ""};
  const auto machine = watch.figures();
  fmt::print("{}", describe(overdraft, judge(overdraft, machine), machine));
  return 0;
}

// Every thread does all its iterations, each with `window` spins: at the
// largest values (16 x 10 million x 10,000 spins) that is hours, but each of
// them alone, with the others at their defaults, takes seconds to a minute.
const registration racy_counter_demo{
    {.name = "race.counter",
     .summary = "threads lose updates to a shared counter",
     .params = {param::number("threads", 2, {1, 16}),
                param::number("iterations", 1'000'000, {1, 10'000'000}),
                param::numbers("window", {0, 50, 500}, {0, 10'000}), param::flag("gil", false)},
     .run = run_racy_counter}};
// Amounts in whole dollars, never negative; each trial sleeps delay_us once,
// so 10,000 trials of 10 ms are under two minutes.
const registration bank_demo{{.name = "race.bank",
                              .summary = "two withdrawals from one balance both succeed",
                              .params = {param::number("balance", 25, {0, 1'000'000}),
                                         param::number("withdraw", 25, {1, 1'000'000}),
                                         param::number("trials", 200, {1, 10'000}),
                                         param::number("delay_us", 1000, {0, 10'000})},
                              .run = run_bank}};

}  // namespace
}  // namespace lab::demos
