// The harness's end of the result channel (private to the check harness).
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

namespace lab::check::detail {

// Writes one JSON document as one line to the result channel.
// Safe to call from any thread; each line is written with one write().
void send(const nlohmann::json& event);

// The pid of the harness process. A forked child of the student's code that
// returns into the harness has another pid, and must not report.
pid_t harness_pid();

// Does nothing; main() calls it so that the "lab" reporter is linked in.
void link_reporter();
void remember_harness_pid();

}  // namespace lab::check::detail
