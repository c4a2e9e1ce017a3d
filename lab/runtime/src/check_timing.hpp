// Time mode of the check harness: one warm-up, then the timed repeats of the
// stage's timed body, as lab asked through the environment; the seconds of
// each go back in one protocol::timing event.
//
// Private to check_main.cpp (see check_channel.hpp). lab::check::timed, the
// public way to register a body, is defined here too: its bodies live in
// this file, where only the harness can run them.
#pragma once

#ifndef LAB_CHECK_MAIN_TRANSLATION_UNIT
#error private to check_main.cpp: include it there only
#endif

#include <exception>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "check_channel.hpp"
#include "env_number.hpp"
#include "lab/check.hpp"
#include "lab/primes.hpp"
#include "lab/protocol.hpp"
#include "lab/timing.hpp"

namespace lab::check {
namespace {

// The timed bodies registered by lab::check::timed, by stage. Filled by
// static initialisers of the check file, read by run_timing (main thread).
std::map<int, std::function<void(long, int)>>& timed_bodies() {
  static std::map<int, std::function<void(long, int)>> bodies;
  return bodies;
}

// Runs one warm-up and the timed repeats described by the environment and
// sends a timing event (or a timing_error). Returns the exit code.
int run_timing() {
  namespace env = protocol::env;
  namespace defaults = protocol::defaults;
  const int for_stage = stage();
  const long workers = detail::env_number<long>(env::time_workers, defaults::time_workers);
  const long size = detail::env_number<long>(env::time_size, defaults::time_size);
  const long repeats = detail::env_number<long>(env::time_repeats, defaults::time_repeats);
  const bool native = detail::env_number<long>(env::time_native, 0) != 0;

  const auto found = timed_bodies().find(for_stage);
  if (found == timed_bodies().end()) {
    send(protocol::timing_error{"no timed body for stage " + std::to_string(for_stage)});
    return 2;
  }
  lab::set_is_prime_mode(native ? lab::code_mode::native : lab::code_mode::interpreted);
  try {
    auto samples = lab::time_repeats(static_cast<int>(repeats),
                                     [&] { found->second(size, static_cast<int>(workers)); });
    send(protocol::timing{.stage = for_stage,
                          .workers = workers,
                          .size = size,
                          .native = native,
                          .samples = std::move(samples)});
    return 0;
  } catch (const std::exception& error) {
    send(protocol::timing_error{error.what()});
    return 1;
  }
}

}  // namespace

timed::timed(int for_stage, std::function<void(long, int)> body) {
  timed_bodies()[for_stage] = std::move(body);
}

}  // namespace lab::check
