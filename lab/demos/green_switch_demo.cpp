// green.switch: what a green-thread switch costs, and what a sleeping green
// thread weighs, next to CPython's greenlet when that yardstick can run.
//
// lesson: green-threads, slide "Native threads and green threads"
//
//   switch             greenlets taking turns with lab::green::yield(): each
//                      turn is one stack switch (Boost.Context) straight to
//                      the next greenlet in the hub's line; the hub's loop
//                      runs between rounds
//   bytes per greenlet resident memory (RSS) taken by each of many greenlets
//                      asleep at once: the stack pages they touched, their
//                      state, their entries in the loop
//
// Medians of `repeats` after a warm-up; each figure is reported to lab bench.
#include <fmt/core.h>
#include <lab/green.hpp>
#include <lab/timing.hpp>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "demo.hpp"
#include "peer_program.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

#if defined(__SANITIZE_THREAD__)
constexpr bool sanitizer_build = true;
#else
constexpr bool sanitizer_build = false;
#endif

// ns per switch: `count` greenlets yield round robin, `switches` in all.
double green_switch_ns(int count, long switches) {
  const long each = switches / count;
  const auto start = clock_type::now();
  for (int i = 0; i < count; ++i)
    green::spawn_named("yielder", [each] {
      for (long n = 0; n < each; ++n) green::yield();
    });
  green::run();
  const double ns = std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
  return ns / static_cast<double>(each * count);
}

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Memory mappings: the kernel's limit per process (vm.max_map_count), and
// how many this process has now. Each greenlet's stack takes two, the stack
// and the guard page below it (two protections, two mappings), so the
// limit caps how many greenlets can live at once.
long map_count_limit() {
  std::ifstream in("/proc/sys/vm/max_map_count");
  long limit = 65'530;  // the kernel's default, if it cannot be read
  in >> limit;
  return limit;
}
long mappings_now() {
  std::ifstream maps("/proc/self/maps");
  long lines = 0;
  for (std::string line; std::getline(maps, line);) ++lines;
  return lines;
}

// Resident bytes per greenlet with `count` of them asleep at once.
double bytes_per_sleeping_greenlet(int count) {
  const long before = resident_bytes();
  std::vector<green::greenlet<void>> sleepers;
  sleepers.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i)
    sleepers.push_back(green::spawn_named("sleeper", [] { green::sleep(std::chrono::hours(1)); }));
  green::sleep(std::chrono::milliseconds(1));  // main waits: every sleeper runs to its sleep
  const long after = resident_bytes();
  for (const auto& s : sleepers) s.kill();  // each unwinds at its sleep
  for (const auto& s : sleepers) {
    try {
      s.get();
    } catch (const green::killed&) {
    }
  }
  return static_cast<double>(after - before) / count;
}

// CPython's greenlet ping-pong, when python3 and its greenlet module are here.
struct python_greenlet {
  double switch_ns = 0;
  std::string note;  // why there is no figure, if there is none
};

python_greenlet run_python_yardstick() {
  python_greenlet figures;
  const peer_script_output ran = run_python_peer("greenlet_py.py");
  figures.note = ran.note;
  if (!ran.note.empty()) return figures;
  std::smatch m;
  if (std::regex_search(ran.output, m, std::regex(R"(greenlet ping-pong:\s+([0-9.]+) ns)")))
    figures.switch_ns = std::stod(m[1].str());
  else if (ran.output.find("No module named 'greenlet'") != std::string::npos)
    figures.note = "CPython's greenlet module is not installed (Debian: python3-greenlet)";
  else
    figures.note = "CPython's greenlet yardstick printed nothing this demo understands";
  return figures;
}

int green_switch_demo(const params& p) {
  const int repeats = static_cast<int>(p.number("repeats"));
  const long switches = p.number("switches");
  const int many = static_cast<int>(p.number("greenlets"));
  const auto median = [repeats](auto measure) { return median_after_warmup(repeats, measure); };
  const double two = median([&] { return green_switch_ns(2, switches); });
  const double crowd = median([&] { return green_switch_ns(std::min(many, 1000), switches); });
  // As many sleepers as asked, if the mappings they need fit under the
  // limit (with room to spare for the rest of the program); else as many
  // as fit, and the demo says why.
  const long limit = map_count_limit();
  long fit = std::max(2L, (limit - mappings_now() - 1'000) / 2);
  // Under ThreadSanitizer every greenlet also gets a trace of its own (a
  // megabyte or so of mappings): a few thousand are all a process can hold.
  constexpr long sanitizer_fit = sanitizer_build ? 2'000 : 0;
  if (sanitizer_fit > 0) fit = std::min(fit, sanitizer_fit);
  const int sleepers = static_cast<int>(std::min<long>(many, fit));
  const double bytes = bytes_per_sleeping_greenlet(sleepers);
  python_greenlet python;
  if (p.flag("python"))
    python = run_python_yardstick();
  else
    python.note = "CPython's yardstick not run: python=0";

  fmt::print("A green-thread switch, lab::green::yield() (median of {} after a warm-up):\n\n", repeats);
  fmt::print("  2 greenlets taking turns:      {:>7.1f} ns per switch\n", two);
  fmt::print("  {:>4} greenlets taking turns:   {:>7.1f} ns per switch\n", std::min(many, 1000), crowd);
  if (python.note.empty())
    fmt::print("  CPython greenlet (this run):   {:>7.1f} ns per switch ({:.1f}x lab's)\n",
               python.switch_ns, python.switch_ns / two);
  else
    fmt::print("  ({}.)\n", python.note);
  fmt::print("\n{} greenlets asleep at once: {:.0f} bytes resident each (the stack pages they\n"
             "touched, of a 256 KiB reserve, and their state), {:.1f} MiB in all.\n",
             sleepers, bytes, bytes * sleepers / (1 << 20));
  if (sleepers < many && sanitizer_fit > 0 && sleepers == sanitizer_fit)
    fmt::print("({} were asked for, but under ThreadSanitizer each greenlet has a trace of its own:\n"
               "{} is as many as this build holds.)\n",
               many, sanitizer_fit);
  else if (sleepers < many)
    fmt::print("({} were asked for, but each stack and its guard page are two memory mappings, and\n"
               "this machine allows {} per process (vm.max_map_count). As root, `sysctl -w\n"
               "vm.max_map_count=262144` makes room for 100,000; at {:.0f} bytes each they would\n"
               "take about {:.0f} MiB.)\n",
               many, limit, bytes, bytes * many / (1 << 20));
  report_metric("sleeping_greenlets", sleepers, "greenlets");
  report_metric("green_switch_ns", two, "ns");
  report_metric("green_switch_ns_many", crowd, "ns");
  report_metric("sleeping_greenlet_bytes", bytes, "bytes");
  if (python.note.empty()) report_metric("python_greenlet_ratio", python.switch_ns / two, "x");
  return 0;
}

const registration green_switch_registration{
    {.name = "green.switch",
     .summary = "what a green-thread switch costs and what a sleeping green thread weighs",
     .params = {param::number("switches", 1'000'000, {1'000, 100'000'000}),
                param::number("greenlets", 10'000, {2, 100'000}), param::number("repeats", 3, {1, 20}),
                param::flag("python", true)},
     .run = green_switch_demo,
     .limits = R"({"open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
