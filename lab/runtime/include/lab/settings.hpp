// The student's settings for the GIL analogue, passed from `lab settings` to
// every demo and check program through the environment.
//
// lesson: gil
//
//   LAB_GIL_INTERVAL_MS     switch interval in milliseconds (CPython's
//                           sys.setswitchinterval)
//   LAB_GIL_FORCED          forced switching: on or off
//   LAB_SAFEPOINT_SPACING   divisions between two safepoints in is_prime and
//                           the other "interpreted" loops
//
// The names, defaults and ranges are stated once, in lab/protocol.hpp
// (protocol::env, protocol::settings). The driver sets these from the
// "settings" of the progress file (.lab/progress.json, see
// lab/driver/settings.hpp); a student can also set them by hand in the shell.
// Unset means the default.
#pragma once

#include <string>
#include <vector>

namespace lab {

// Reads the variables above and applies them to the process (lab::gil,
// lab::set_safepoint_spacing). Returns one line per value it could not use,
// naming the variable, its value and what it should be (LAB_GIL_FORCED=maybe
// should be on or off); those are left at their defaults. Call once, before
// starting threads.
std::vector<std::string> apply_settings_from_environment();

}  // namespace lab
