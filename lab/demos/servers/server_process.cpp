#include "server_process.hpp"

#include <fmt/core.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <thread>

#include <lab/net/error.hpp>

namespace lab::demos {
namespace {

// How long a server may take to stop before it is killed.
constexpr auto stop_grace = std::chrono::seconds(5);

}  // namespace

server_process::server_process(const demo_server& server, const server_options& options,
                               std::uint16_t port) {
  net::listener listener = net::listen_loopback(port);
  port_ = listener.port;
  pipe_ends stop = make_pipe();
  std::fflush(stdout);  // nothing buffered gets printed twice
  pid_ = ::fork();
  if (pid_ < 0) net::throw_errno("fork (starting " + server.name + ")");
  if (pid_ == 0) {
    stop.write.reset();  // only the demo holds it: its end (or the demo's death) stops us
    int code = 0;
    try {
      server.serve(listener, stop.read.get(), options);
    } catch (const std::exception& error) {
      fmt::print(stderr, "{}: {}\n", server.name, error.what());
      code = 1;
    }
    std::fflush(stdout);
    std::fflush(stderr);
    ::_exit(code);
  }
  stop_writer_ = std::move(stop.write);
  // The listener stays with the child: once it has gone, so has the port.
}

int server_process::stop() {
  if (pid_ <= 0) return status_;
  stop_writer_.reset();
  const auto deadline = std::chrono::steady_clock::now() + stop_grace;
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return status_;
}

}  // namespace lab::demos
