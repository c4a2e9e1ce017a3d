#include "machine_load.hpp"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace lab::demos {
namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// CPU seconds used so far by this process (every thread, living or ended)
// and by the children it has waited for.
double own_cpu_seconds() {
  const auto seconds = [](const rusage& u) {
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  };
  rusage self{}, children{};
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_CHILDREN, &children);
  return seconds(self) + seconds(children);
}

std::optional<cpu_ticks> read_cpu_ticks(const std::vector<int>& cpus) {
  return parse_cpu_ticks(read_file("/proc/stat"), cpus);
}

}  // namespace

std::optional<double> parse_load_average(std::string_view proc_loadavg) {
  double value = 0;
  const auto [end, error] =
      std::from_chars(proc_loadavg.data(), proc_loadavg.data() + proc_loadavg.size(), value);
  if (error != std::errc() || end == proc_loadavg.data()) return std::nullopt;
  return value;
}

std::optional<cpu_ticks> parse_cpu_ticks(std::string_view proc_stat, const std::vector<int>& cpus) {
  std::map<int, cpu_ticks> per_cpu;  // every "cpuN" line
  std::istringstream lines{std::string(proc_stat)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    int cpu = -1;
    if (name.size() <= 3 || name.compare(0, 3, "cpu") != 0) continue;
    const auto [end, error] = std::from_chars(name.data() + 3, name.data() + name.size(), cpu);
    if (error != std::errc() || end != name.data() + name.size()) continue;
    // user nice system idle iowait irq softirq steal (guest time is counted in user)
    unsigned long long field[8] = {};
    bool complete = true;
    for (auto& f : field) complete = complete && static_cast<bool>(words >> f);
    if (!complete) continue;
    per_cpu[cpu] = {.busy = field[0] + field[1] + field[2] + field[5] + field[6] + field[7],
                    .idle = field[3] + field[4]};
  }
  if (cpus.empty()) return std::nullopt;
  cpu_ticks sum;
  for (int cpu : cpus) {
    const auto found = per_cpu.find(cpu);
    if (found == per_cpu.end()) return std::nullopt;
    sum.busy += found->second.busy;
    sum.idle += found->second.idle;
  }
  return sum;
}

double others_busy_cores(const cpu_ticks& before, const cpu_ticks& after, double own_cpu_seconds,
                         double wall_seconds, long ticks_per_second, unsigned cores) {
  if (wall_seconds <= 0 || ticks_per_second <= 0 || after.busy < before.busy) return 0;
  const double busy_seconds =
      static_cast<double>(after.busy - before.busy) / static_cast<double>(ticks_per_second);
  return std::clamp((busy_seconds - own_cpu_seconds) / wall_seconds, 0.0,
                    static_cast<double>(cores));
}

std::vector<int> usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (std::size_t cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(static_cast<int>(cpu));
  return cpus;
}

load_watch::load_watch()
    : cpus_(usable_cpus()),
      start_ticks_(read_cpu_ticks(cpus_)),
      start_own_seconds_(own_cpu_seconds()),
      start_(std::chrono::steady_clock::now()) {}

load_figures load_watch::figures() const {
  load_figures f;
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  f.machine_cores = online > 0 ? static_cast<unsigned>(online) : 1;
  f.usable_cores = cpus_.empty() ? f.machine_cores : static_cast<unsigned>(cpus_.size());
  f.load_average = parse_load_average(read_file("/proc/loadavg")).value_or(-1);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const auto ticks = read_cpu_ticks(cpus_);
  if (start_ticks_ && ticks && wall >= shortest_watch_seconds) {
    f.others_busy = others_busy_cores(*start_ticks_, *ticks, own_cpu_seconds() - start_own_seconds_,
                                      wall, sysconf(_SC_CLK_TCK), f.usable_cores);
  }
  return f;
}

}  // namespace lab::demos
