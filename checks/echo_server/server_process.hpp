// The student's server, run in a fork()ed child of the check program.
//
// Why a child and not a thread: a server that dies (SIGPIPE from a send to a
// client that reset, an uncaught exception, a crash) would take the whole
// check program with it on a thread, and no check could say what happened.
// As a child it dies alone, and the check reads how from its exit status.
// A process of its own also lets the checks measure the server alone: its
// CPU time, its state, its open descriptors (server_figures.hpp).
//
// The check makes the listening socket (port 0: the OS picks) and a pipe,
// then forks. The child calls serve(listener_fd, stop_fd) and reports over a
// second pipe how it ended (returned, a todo() in the stub, an exception),
// then _exit()s, never returning into the check harness. The parent keeps
// the port, the stop pipe's write end (stop() writes one byte to it: the
// stop descriptor becomes readable) and the report pipe's read end, but not
// the listening socket: when the child is gone, a client's connect is
// refused instead of waiting in a backlog nobody serves.
//
// The listener's send buffer is made small (64 KB) before the fork; the
// sockets the server accepts inherit it, so partial sends happen at once
// rather than only on a slow network.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include <lab/unique_fd.hpp>

namespace echo_check {

// The stage's server function: serves on `listener_fd` until `stop_fd` is readable.
using serve_function = void (*)(int listener_fd, int stop_fd);

// How the server ended.
struct server_end {
  enum class kind { returned, todo, threw, exited, signalled, stop_ignored, too_busy } how;
  std::string text;  // the todo's or exception's message, or what happened, in words
};

class server_process {
 public:
  // Listens on 127.0.0.1 (port 0) and starts `serve` in a child process.
  explicit server_process(serve_function serve);
  // Kills the child if it still runs, and reaps it.
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // How the child ended, if it has; nullopt while it runs. Reaps it.
  std::optional<server_end> ended();

  // Makes the stop descriptor readable and waits for the server to return.
  // A server that does not return is watched for progress as in
  // echo_clients.hpp (stop_ignored: it was seen blocked or running for the
  // whole patience; too_busy: the machine gave it no chance), then killed.
  server_end stop();

 private:
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  lab::unique_fd stop_write_;
  lab::unique_fd report_read_;
  std::optional<server_end> end_;  // once known
};

// One line, for a failure message: how the server ended, in words, with
// what to do about it.
std::string describe(const server_end& end);

}  // namespace echo_check
