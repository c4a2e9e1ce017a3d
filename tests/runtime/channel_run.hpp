// Runs a program the way lab does, for the runtime's tests: with a result
// channel (a pipe) and its secret in the environment, and reads back what it
// reported there and what it printed.
#pragma once

#include <lab/protocol.hpp>

#include <string>
#include <vector>

namespace lab::testing {

struct channel_run {
  std::vector<protocol::event> events;        // believed lines, in order
  protocol::channel_reader::counts rejected;  // lines that were not
  int exit_code = -1;                         // -1 when it died of a signal
  int signal = 0;                             // the signal that ended it, or 0
  std::string output;                         // stdout and stderr together
};

// Runs `program` with `args` and an environment of only `env` (NAME=value)
// plus the channel's two variables: LAB_RESULT_FD naming the pipe's write
// end, LAB_RUN_SECRET set to `secret`. Kills it after 60 s (then signal is
// SIGKILL). Throws std::runtime_error if it cannot be started.
channel_run run_with_channel(const std::string& program, const std::vector<std::string>& args,
                             const std::vector<std::string>& env, const std::string& secret);

// "NAME=value", for the env of run_with_channel.
std::string assignment(const char* name, const std::string& value);

// The events of type T, in order.
template <typename T>
std::vector<T> events_of(const channel_run& run) {
  std::vector<T> found;
  for (const auto& e : run.events)
    if (const T* each = std::get_if<T>(&e)) found.push_back(*each);
  return found;
}

}  // namespace lab::testing
