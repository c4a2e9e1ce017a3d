#include "check_timing.hpp"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "check_channel.hpp"
#include "lab/check.hpp"
#include "lab/primes.hpp"
#include "lab/timing.hpp"

namespace lab::check::detail {
namespace {

long env_long(const char* name, long fallback) {
  const char* text = std::getenv(name);
  return text == nullptr ? fallback : std::strtol(text, nullptr, 10);
}

}  // namespace

int run_timing() {
  const int for_stage = stage();
  const long workers = env_long("LAB_TIME_WORKERS", 1);
  const long size = env_long("LAB_TIME_SIZE", 10000);
  const long repeats = env_long("LAB_TIME_REPEATS", 3);
  const bool native = env_long("LAB_TIME_NATIVE", 0) != 0;

  auto found = timed_bodies().find(for_stage);
  if (found == timed_bodies().end()) {
    send({{"event", "timing_error"},
          {"message", "no timed body for stage " + std::to_string(for_stage)}});
    return 2;
  }
  lab::set_is_prime_mode(native ? lab::code_mode::native : lab::code_mode::interpreted);
  try {
    const auto samples = lab::time_repeats(static_cast<int>(repeats),
                                           [&] { found->second(size, static_cast<int>(workers)); });
    send({{"event", "timing"},
          {"stage", for_stage},
          {"workers", workers},
          {"size", size},
          {"native", native},
          {"samples", samples}});
    return 0;
  } catch (const std::exception& error) {
    send({{"event", "timing_error"}, {"message", error.what()}});
    return 1;
  }
}

}  // namespace lab::check::detail
