// "time" mode of the check harness (private to the harness).
#pragma once

#include <functional>
#include <map>

namespace lab::check::detail {

// The timed bodies registered by lab::check::timed, by stage.
std::map<int, std::function<void(long, int)>>& timed_bodies();

// Runs one warm-up and the timed repeats described by the environment and
// sends a "timing" event (or a "timing_error"). Returns the exit code.
int run_timing();

}  // namespace lab::check::detail
