// A demo server in a child process of its own, for a demo's clients to
// talk to: started on a port the OS picks, stopped (and waited for) when
// the owner goes out of scope, so that no server outlives its demo.
//
// The demo forks before it starts any thread of its own, so the child is a
// plain single-threaded copy: it may start threads, or fork per client.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include <lab/unique_fd.hpp>

#include "server.hpp"

namespace lab::demos {

class server_process {
 public:
  // Listens on 127.0.0.1:`port` (0: any free port), then forks a child that
  // runs `server` there. Throws lab::net::error if the port cannot be had.
  server_process(const demo_server& server, const server_options& options, std::uint16_t port = 0);
  ~server_process() { stop(); }
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Tells the server to stop (its stop pipe reaches its end) and waits for
  // it; after a few seconds without an answer, kills it. Returns its exit
  // status (0: stopped cleanly). Idempotent.
  int stop();

 private:
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
  unique_fd stop_writer_;  // closing it tells the server to stop
  int status_ = 0;
};

}  // namespace lab::demos
