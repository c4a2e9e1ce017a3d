// loop.stall: one task that blocks the thread stops every task on the loop,
// and the loop's watchdog names it.
//
// lesson: event-loops
//
// A ticker task prints a tick every `tick_ms`. Another task "waits"
// `block_ms`: first with std::this_thread::sleep_for, a blocking call that
// keeps the loop's only thread, then with co_await lab::sleep, which hands
// the thread back to the loop. The demo measures the longest gap between
// two ticks each time.
#include <fmt/core.h>
#include <lab/event_loop.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "demo.hpp"

namespace lab::demos {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using ms = std::chrono::duration<double, std::milli>;

task<> ticker(std::chrono::milliseconds every, int ticks, clock_type::time_point start,
              std::vector<clock_type::time_point>& times) {
  for (int i = 0; i < ticks; ++i) {
    times.push_back(clock_type::now());
    fmt::print("  {:>6.0f} ms  tick {}\n", ms(times.back() - start).count(), i + 1);
    co_await lab::sleep(every);
  }
}

task<> waits_blocking(std::chrono::milliseconds how_long, clock_type::time_point start) {
  co_await lab::sleep(how_long / 2);  // let a few ticks through first
  fmt::print("  {:>6.0f} ms  the other task calls std::this_thread::sleep_for({} ms)\n",
             ms(clock_type::now() - start).count(), how_long.count());
  std::this_thread::sleep_for(how_long);  // the mistake: the loop's only thread sleeps
}

task<> waits_cooperatively(std::chrono::milliseconds how_long, clock_type::time_point start) {
  co_await lab::sleep(how_long / 2);
  fmt::print("  {:>6.0f} ms  the other task does co_await lab::sleep({} ms)\n",
             ms(clock_type::now() - start).count(), how_long.count());
  co_await lab::sleep(how_long);
}

// Runs the ticker beside one of the two waiting tasks; returns the longest
// gap between ticks and what the watchdog reported.
struct outcome {
  double longest_gap_ms = 0;
  std::vector<stall> stalls;
};

template <typename Waiter>
outcome run_with(Waiter waiter, std::chrono::milliseconds tick, std::chrono::milliseconds block) {
  outcome result;
  event_loop loop({.stall_warning = 100ms, .on_stall = [&result](const stall& s) {
                     result.stalls.push_back(s);
                     fmt::print("  watchdog: {} kept the thread for about {} ms without waiting\n", s.task,
                                s.duration.count());
                   }});
  std::vector<clock_type::time_point> times;
  const auto start = clock_type::now();
  const int ticks = static_cast<int>((block * 2) / tick) + 2;
  loop.spawn(ticker(tick, ticks, start, times), "ticker");
  loop.spawn(waiter(block, start), "the other task");
  loop.run();
  for (std::size_t i = 1; i < times.size(); ++i)
    result.longest_gap_ms = std::max(result.longest_gap_ms, ms(times[i] - times[i - 1]).count());
  return result;
}

int stall_demo(const params& p) {
  const auto tick = std::chrono::milliseconds(p.number("tick_ms"));
  const auto block = std::chrono::milliseconds(p.number("block_ms"));
  fmt::print("A ticker ticks every {} ms on the loop; the other task waits {} ms.\n\n", tick.count(),
             block.count());
  fmt::print("1. With a blocking call:\n");
  const outcome blocking = run_with(waits_blocking, tick, block);
  fmt::print("\n2. With co_await:\n");
  const outcome cooperative = run_with(waits_cooperatively, tick, block);
  fmt::print("\nLongest gap between two ticks: {:.0f} ms blocking, {:.0f} ms with co_await.\n",
             blocking.longest_gap_ms, cooperative.longest_gap_ms);

  const bool named = std::any_of(blocking.stalls.begin(), blocking.stalls.end(),
                                 [](const stall& s) { return s.task == "task 'the other task'"; });
  // The blocking run must show a gap of the whole block; the cooperative
  // one should not. A busy machine can stretch gaps in both.
  const bool froze = blocking.longest_gap_ms >= static_cast<double>(block.count());
  const bool kept_ticking = cooperative.longest_gap_ms < static_cast<double>(block.count());
  if (froze && named && kept_ticking)
    fmt::print("The blocking call froze every task on the loop for its whole {} ms, and the\n"
               "watchdog named the task; awaiting the same wait let the ticker go on.\n",
               block.count());
  else if (froze && named)
    fmt::print("The blocking call froze the loop and the watchdog named it, but the co_await run\n"
               "also had a gap of {:.0f} ms: this machine was too busy to show the contrast.\n",
               cooperative.longest_gap_ms);
  else
    fmt::print("Unexpected: the blocking run's longest gap was {:.0f} ms for a {} ms block: this\n"
               "is a bug in the lab.\n",
               blocking.longest_gap_ms, block.count());
  return froze && named ? 0 : 1;
}

const registration stall_registration{
    {.name = "loop.stall",
     .summary = "a blocking call in one task freezes every task; the watchdog names it",
     .params = {param::number("tick_ms", 50, {10, 1000}), param::number("block_ms", 400, {150, 5000})},
     .run = stall_demo}};

}  // namespace
}  // namespace lab::demos
