// coro.switch: what a switch between coroutines costs, next to a switch
// between OS threads, and next to CPython's generators when the yardstick
// is on this machine.
//
// lesson: coroutines
//
//   generator switch     resume one of N lab::generator in turn (the
//                        round-robin "scheduler" of the lesson)
//   event loop switch    co_await lab::yield() among N tasks on lab::event_loop
//   thread ping-pong     two OS threads handing a turn back and forth with a
//                        mutex and a condition variable
//   spawn + join         a task on the loop, against a std::thread
//   bytes per task       heap taken by each of many sleeping tasks
//
// Medians of `repeats` after a warm-up; each figure is also reported to
// `lab bench` (report_metric).
#include <fmt/core.h>
#include <lab/event_loop.hpp>
#include <lab/generator.hpp>
#include <lab/timing.hpp>
#include <malloc.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "peer_program.hpp"

namespace lab::demos {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

// ns per switch: `switches` resumes spread round robin over `count` generators.
double generator_switch_ns(int count, long switches) {
  long sink = 0;
  auto counting = [](long& total) -> lab::generator<int> {
    for (;;) {
      ++total;
      co_yield 0;
    }
  };
  std::vector<lab::generator<int>> coros;
  std::vector<lab::generator<int>::iterator> at;
  for (int i = 0; i < count; ++i) coros.push_back(counting(sink));
  for (auto& coro : coros) at.push_back(coro.begin());  // each runs to its first co_yield
  const auto start = clock_type::now();
  for (long s = 0; s < switches;)
    for (std::size_t i = 0; i < at.size() && s < switches; ++i, ++s) ++at[i];
  const double seconds = seconds_since(start);
  if (sink < switches) std::abort();  // the work must have happened
  return seconds * 1e9 / static_cast<double>(switches);
}

task<> yielder(long rounds) {
  for (long i = 0; i < rounds; ++i) co_await lab::yield();
}

// ns per switch on the event loop: `count` tasks each yielding `rounds` times.
double loop_switch_ns(int count, long switches) {
  const long rounds = std::max(1L, switches / count);
  event_loop loop;
  for (int i = 0; i < count; ++i) loop.spawn(yielder(rounds));
  const auto start = clock_type::now();
  loop.run();
  return seconds_since(start) * 1e9 / static_cast<double>(rounds * count);
}

// ns per switch between two OS threads taking turns.
double thread_ping_pong_ns(long rounds) {
  std::mutex m;
  std::condition_variable turn_changed;
  int turn = 0;  // guarded by m: whose turn it is, 0 or 1
  auto player = [&](int me) {
    for (long i = 0; i < rounds; ++i) {
      std::unique_lock lock(m);
      turn_changed.wait(lock, [&] { return turn == me; });
      turn = 1 - me;
      turn_changed.notify_one();
    }
  };
  const auto start = clock_type::now();
  std::thread other(player, 1);
  player(0);
  other.join();
  return seconds_since(start) * 1e9 / static_cast<double>(2 * rounds);
}

task<int> trivial() { co_return 1; }

task<> spawn_and_join_many(long count) {
  event_loop& loop = event_loop::current();
  for (long i = 0; i < count; ++i) {
    auto handle = loop.spawn(trivial());
    co_await handle;
  }
}

double task_spawn_join_ns(long count) {
  event_loop loop;
  const auto start = clock_type::now();
  loop.run_until_complete(spawn_and_join_many(count));
  return seconds_since(start) * 1e9 / static_cast<double>(count);
}

double thread_spawn_join_ns(long count) {
  const auto start = clock_type::now();
  for (long i = 0; i < count; ++i) std::thread([] {}).join();
  return seconds_since(start) * 1e9 / static_cast<double>(count);
}

task<> sleeps_long() { co_await lab::sleep(1h); }

// Heap bytes in use: malloc's arena and the large blocks it maps on its own
// (a vector of 100,000 timers is one of those: leaving them out would
// flatter the figure).
std::size_t heap_in_use() {
  const auto info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Heap bytes per task suspended in a sleep: its frame with the loop's record
// of it in front (one block, lab/task_record.hpp) and its timer, measured by
// malloc's own count.
double bytes_per_sleeping_task(int count) {
  event_loop loop;
  std::vector<join_handle<void>> handles;
  handles.reserve(static_cast<std::size_t>(count));
  const auto with_handles = heap_in_use();
  for (int i = 0; i < count; ++i) handles.push_back(loop.spawn(sleeps_long()));
  loop.call_soon([] { throw std::runtime_error("stop"); });  // after every task has gone to sleep
  try {
    loop.run();
  } catch (const std::runtime_error&) {
  }
  return static_cast<double>(heap_in_use() - with_handles) / count;
}

// CPython's figures from the yardstick, run now, when it is on this machine.
struct python_figures {
  double switch_2 = 0, switch_10k = 0;
  std::string note;
};

python_figures run_python_yardstick() {
  python_figures figures;
  const peer_script_output ran = run_python_peer("switch_py.py");
  figures.note = ran.note;
  if (!ran.note.empty()) return figures;
  std::smatch m;
  if (std::regex_search(ran.output, m, std::regex(R"(\(2 tasks\):\s+([0-9.]+) ns)")))
    figures.switch_2 = std::stod(m[1].str());
  if (std::regex_search(ran.output, m, std::regex(R"(\(10k tasks\):\s+([0-9.]+) ns)")))
    figures.switch_10k = std::stod(m[1].str());
  if (figures.switch_2 == 0) figures.note = "CPython's yardstick printed nothing this demo understands";
  return figures;
}

int switch_demo(const params& p) {
  const int repeats = static_cast<int>(p.number("repeats"));
  const long switches = p.number("switches");
  const int many = static_cast<int>(p.number("tasks"));
  const auto median = [repeats](auto measure) { return median_after_warmup(repeats, measure); };
  const double gen_2 = median([&] { return generator_switch_ns(2, switches); });
  const double gen_many = median([&] { return generator_switch_ns(many, switches); });
  const double loop_2 = median([&] { return loop_switch_ns(2, switches); });
  const double loop_many = median([&] { return loop_switch_ns(many, switches); });
  const double threads = median([&] { return thread_ping_pong_ns(std::max(1000L, switches / 100)); });
  const double task_spawn = median([&] { return task_spawn_join_ns(std::max(1000L, switches / 10)); });
  const double thread_spawn = median([&] { return thread_spawn_join_ns(2000); });
  const double task_bytes = bytes_per_sleeping_task(many);
  python_figures python;
  if (p.flag("python"))
    python = run_python_yardstick();
  else
    python.note = "CPython's yardstick not run: python=0";

  fmt::print("Cost of one switch (median of {} after a warm-up; {} switches each):\n\n", repeats, switches);
  fmt::print("  {:<42} {:>10} {:>10}\n", "", "2 tasks", fmt::format("{} tasks", many));
  fmt::print("  {:<42} {:>7.1f} ns {:>7.1f} ns\n", "lab::generator, resumed round robin", gen_2, gen_many);
  fmt::print("  {:<42} {:>7.1f} ns {:>7.1f} ns\n", "lab::event_loop, co_await lab::yield()", loop_2, loop_many);
  if (python.note.empty())
    fmt::print("  {:<42} {:>7.1f} ns {:>7.1f} ns  (10k tasks)\n", "CPython generators (yardstick, this run)",
               python.switch_2, python.switch_10k);
  fmt::print("  {:<42} {:>7.0f} ns\n", "two OS threads (mutex + condition variable)", threads);
  fmt::print("\nspawn + join: a task {:.0f} ns, a std::thread {:.0f} ns ({:.0f}× dearer)\n", task_spawn,
             thread_spawn, thread_spawn / task_spawn);
  fmt::print("heap per sleeping task: {:.0f} bytes ({} tasks asleep at once)\n", task_bytes, many);
  if (!python.note.empty()) fmt::print("({}.)\n", python.note);

  fmt::print("\n");
  const bool cheaper = gen_many < threads && loop_many < threads;
  if (cheaper)
    fmt::print("A coroutine switch is a function call into a saved frame: {:.0f}× cheaper than handing\n"
               "the CPU from one OS thread to another here{}.\n",
               threads / gen_many,
               python.note.empty() ? fmt::format(", and {:.1f}× cheaper than a CPython generator's",
                                                 python.switch_10k / gen_many)
                                   : "");
  else
    fmt::print("On this run the coroutine switches were not cheaper than the thread switch "
               "({:.0f} ns vs {:.0f} ns): the machine was too busy to measure them apart.\n",
               std::max(gen_many, loop_many), threads);

  report_metric("generator_switch_ns_many", gen_many, "ns");
  report_metric("loop_switch_ns_many", loop_many, "ns");
  report_metric("thread_switch_ns", threads, "ns");
  report_metric("spawn_join_ratio", thread_spawn / task_spawn, "x");
  report_metric("sleeping_task_bytes", task_bytes, "bytes");
  if (python.note.empty()) report_metric("python_generator_ratio", python.switch_10k / gen_many, "x");
  return 0;
}

const registration switch_registration{
    {.name = "coro.switch",
     .summary = "what a coroutine switch costs, beside an OS-thread switch and CPython's generators",
     .params = {param::number("switches", 2'000'000, {10'000, 100'000'000}),
                param::number("tasks", 100'000, {2, 1'000'000}), param::number("repeats", 3, {1, 20}),
                param::flag("python", true)},
     .run = switch_demo}};

}  // namespace
}  // namespace lab::demos
