// A closed-loop load generator for the loopback: each connection sends a
// request, waits for the whole answer, and sends the next one at once, for a
// fixed time. What `lab load` runs, and what the benchmarks drive servers with.
//
//   lab::net::load_plan plan{.port = 8000, .connections = 100,
//                            .duration = std::chrono::seconds(2)};
//   const lab::net::load_report report = lab::net::run_load(plan);
//   report.per_second(), report.percentile_us(0.99), report.errors
//
// Threads: one per core (at most one per connection), each with an epoll
// loop over its share of the connections. Latencies are kept whole (one
// float per round trip) and sorted at the end; the plan's bounds keep that
// a few tens of megabytes at most.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lab::net {

enum class load_mode {
  echo,      // send `message_size` bytes on a kept connection, wait for the same bytes back
  counting,  // connect, read "<N, took X ms>" to the end of the stream, then connect again
};

// The bounds lab load enforces, stated once.
inline constexpr int max_load_connections = 10'000;
inline constexpr double max_load_seconds = 60;
inline constexpr std::size_t max_message_size = 1 << 20;

// How far a run has got, for a progress line (see load_plan::on_progress).
struct load_progress {
  double seconds = 0;
  std::uint64_t round_trips = 0;
  std::uint64_t errors = 0;
};

struct load_plan {
  std::uint16_t port = 0;  // on 127.0.0.1
  int connections = 1;
  std::chrono::milliseconds duration{1000};
  std::size_t message_size = 64;  // echo mode
  load_mode mode = load_mode::echo;
  int threads = 0;  // 0: one per core
  // Called on the calling thread about once a second while the load runs.
  std::function<void(const load_progress&)> on_progress = {};
};

struct load_report {
  std::uint64_t round_trips = 0;
  std::uint64_t errors = 0;  // connections refused, reset or closed early; wrong answers
  std::string first_error;   // what the first one was, in words; "" if none
  double seconds = 0;        // how long the load ran
  int threads = 0;
  std::vector<float> latencies_us;  // one per round trip, sorted

  double per_second() const { return seconds > 0 ? static_cast<double>(round_trips) / seconds : 0; }
  // The latency below which `fraction` of the round trips fell (0 if none).
  double percentile_us(double fraction) const;
  double max_us() const { return latencies_us.empty() ? 0 : latencies_us.back(); }
};

// Runs the load. Throws std::invalid_argument for a plan out of the bounds
// above (or more connections than this process may open), and
// std::runtime_error when not a single connection could be made ("connect
// to 127.0.0.1:8000: Connection refused"); anything that goes wrong later
// is counted in `errors`.
load_report run_load(const load_plan& plan);

}  // namespace lab::net
