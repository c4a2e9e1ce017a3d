// A run profile: the limits of the box one program runs in. Course data sets
// them ("limits" in exercises/info.json, lessons/benchmarks.json and a demo's
// registration), lab enforces a ceiling above which no course may go, and
// the run layer (run.hpp) turns a profile into a box.
//
//   "limits": { "timeout_seconds": 8, "max_tasks": 64, "open_files": 12000,
//               "cpu_seconds": 32, "memory_mb": 4096, "file_size_mb": 64,
//               "output_kb": 64, "network": "isolated" }
//
// Every key is optional; what is missing keeps the profile's default.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace lab {

// Whether the program may use the machine's network or only a loopback of
// its own (a network namespace; where the machine allows none, the run says so).
enum class network_access {
  isolated,  // its own loopback only: checks of student code
  host,      // the machine's loopback: demo servers a student points nc at
};

struct run_profile {
  std::chrono::milliseconds timeout{30'000};       // wall clock, then the box is killed
  std::uint64_t cpu_seconds = 120;                 // RLIMIT_CPU; 0 = no limit
  std::uint64_t address_space_bytes = 4ull << 30;  // RLIMIT_AS; 0 = no limit (sanitizers)
  int max_tasks = 128;                             // processes + threads in the box
  std::uint64_t open_files = 256;                  // RLIMIT_NOFILE
  std::uint64_t file_size_bytes = 64ull << 20;     // RLIMIT_FSIZE
  std::size_t output_cap_bytes = 64 << 10;         // kept per stream (stdout, stderr)
  std::size_t channel_cap_bytes = 4 << 20;         // kept from the result channel
  network_access network = network_access::isolated;
};

// The defaults of each kind of run, stated once.
namespace profiles {
// A check program of an exercise (the course's "limits" go on top).
run_profile check_program();
// lab's own demos: long-running, many threads, no address-space cap (a
// sanitizer build reserves terabytes), the machine's loopback.
run_profile demo();
// Short questions to a program: "which checks?", "which demos?".
run_profile query();
// A demo server in the foreground (lab serve): a demo's box that lasts
// until the student stops it, up to an hour of the box's own time.
run_profile server();
}  // namespace profiles

// The most any course may ask for. Above it a course file is refused.
namespace ceiling {
inline constexpr int timeout_seconds = 900;
inline constexpr std::uint64_t cpu_seconds = 3600;
inline constexpr std::uint64_t memory_mb = 16 << 10;
inline constexpr int max_tasks = 4096;
inline constexpr std::uint64_t open_files = 65536;
inline constexpr std::uint64_t file_size_mb = 1024;
inline constexpr std::uint64_t output_kb = 16 << 10;
}  // namespace ceiling

// Overlays the "limits" object `limits` on `base`. Throws std::invalid_argument
// with a one-line cause ("open_files 100000 is above lab's ceiling of 65536")
// for an unknown key, a wrong type, or a value outside 1..ceiling.
run_profile apply_limits(run_profile base, const nlohmann::json& limits);

}  // namespace lab
