// The machine's figures: /proc/loadavg and /proc/stat as the kernel writes
// them, and the arithmetic of "cores other programs kept busy".
#include "machine_load.hpp"

#include <doctest/doctest.h>

using lab::demos::cpu_ticks;

namespace {

// /proc/stat of a 2-CPU machine, cut short after the CPU lines.
constexpr const char* proc_stat =
    "cpu  300 10 50 1000 5 0 3 2 0 0\n"
    "cpu0 100 5 20 600 3 0 1 1 0 0\n"
    "cpu1 200 5 30 400 2 0 2 1 0 0\n"
    "intr 13976632 0 0\n"
    "ctxt 4242\n";

}  // namespace

TEST_CASE("the load average is the first field of proc loadavg") {
  CHECK(lab::demos::parse_load_average("5.57 3.16 4.42 10/137 31497\n") == doctest::Approx(5.57));
  CHECK_FALSE(lab::demos::parse_load_average("").has_value());
  CHECK_FALSE(lab::demos::parse_load_average("load: high").has_value());
}

TEST_CASE("cpu ticks sum busy and idle time over the chosen cpus only") {
  const auto cpu1 = lab::demos::parse_cpu_ticks(proc_stat, {1});
  REQUIRE(cpu1.has_value());
  CHECK(cpu1->busy == 200 + 5 + 30 + 0 + 2 + 1);  // user nice system irq softirq steal
  CHECK(cpu1->idle == 400 + 2);                   // idle iowait
  const auto both = lab::demos::parse_cpu_ticks(proc_stat, {0, 1});
  REQUIRE(both.has_value());
  CHECK(both->busy == cpu1->busy + 100 + 5 + 20 + 0 + 1 + 1);
}

TEST_CASE("cpu ticks are unknown for a cpu that proc stat does not list") {
  CHECK_FALSE(lab::demos::parse_cpu_ticks(proc_stat, {2}).has_value());
  CHECK_FALSE(lab::demos::parse_cpu_ticks(proc_stat, {}).has_value());
  CHECK_FALSE(lab::demos::parse_cpu_ticks("cpu0 1 2\n", {0}).has_value());  // cut short
}

TEST_CASE("the cores others kept busy are the busy time minus this process's own") {
  const cpu_ticks before{.busy = 1000, .idle = 0}, after{.busy = 1400, .idle = 0};
  // 400 ticks at 100 per second: 4 CPU seconds in 2 s of wall time, 1 of them ours.
  CHECK(lab::demos::others_busy_cores(before, after, 1.0, 2.0, 100, 2) == doctest::Approx(1.5));
  CHECK(lab::demos::others_busy_cores(before, after, 4.0, 2.0, 100, 2) == doctest::Approx(0));
}

TEST_CASE("the cores others kept busy stay between none and the cores watched") {
  const cpu_ticks before{.busy = 0, .idle = 0}, after{.busy = 1000, .idle = 0};
  CHECK(lab::demos::others_busy_cores(before, after, 0, 1.0, 100, 2) == doctest::Approx(2));
  CHECK(lab::demos::others_busy_cores(before, after, 50, 1.0, 100, 2) == doctest::Approx(0));
  CHECK(lab::demos::others_busy_cores(after, before, 0, 1.0, 100, 2) == doctest::Approx(0));
  CHECK(lab::demos::others_busy_cores(before, after, 0, 0, 100, 2) == doctest::Approx(0));
}

TEST_CASE("a load watch sees at least one usable core and no more than the machine has") {
  const lab::demos::load_watch watch;
  const auto figures = watch.figures();
  CHECK(figures.usable_cores >= 1);
  CHECK(figures.usable_cores <= figures.machine_cores);
  CHECK(figures.others_busy <= figures.usable_cores);
}
