#include "server.hpp"

#include <fmt/core.h>
#include <poll.h>
#include <time.h>

#include <cstdio>
#include <stdexcept>
#include <utility>

#include <lab/net/error.hpp>

namespace lab::demos {

std::map<std::string, demo_server>& server_registry() {
  static std::map<std::string, demo_server> servers;
  return servers;
}

server_registration::server_registration(demo_server s) {
  const std::string name = s.name;
  server_registry().emplace(name, std::move(s));
}

std::vector<param_spec> server_params(server_kind kind) {
  std::vector<param_spec> specs = {param::number("port", 0, {0, 65535})};
  if (kind == server_kind::echo) {
    specs.push_back(param::number("chunk", 16, {1, 65536}));
    specs.push_back(param::number("compute_ms", 0, {0, 10'000}));
  } else if (kind == server_kind::counting) {
    specs.push_back(param::number("work_ms", 50, {0, 10'000}));
  } else {
    specs.push_back(param::number("poll_s", 25, {1, 600}));
  }
  return specs;
}

server_options options_from(server_kind kind, const params& p) {
  server_options options;
  if (kind == server_kind::echo) {
    options.chunk = static_cast<std::size_t>(p.number("chunk"));
    options.compute = std::chrono::milliseconds(p.number("compute_ms"));
  } else if (kind == server_kind::counting) {
    options.work = std::chrono::milliseconds(p.number("work_ms"));
  } else {
    options.long_poll = std::chrono::seconds(p.number("poll_s"));
  }
  return options;
}

bool wait_for_client_or_stop(int listener_fd, int stop_fd) {
  pollfd watched[2] = {{listener_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    if (::poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      net::throw_errno("poll");
    }
    if (watched[1].revents != 0) return false;
    if (watched[0].revents != 0) return true;
  }
}

void say(const server_options& options, const std::string& line) {
  if (!options.chatty) return;
  fmt::print("{}\n", line);
  std::fflush(stdout);
}

void compute_for(std::chrono::milliseconds cpu) {
  // This thread's own CPU clock: on a busy machine the computation still
  // costs `cpu` of work, however long the wall clock says it took.
  const auto now = [] {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
  };
  const auto end = now() + cpu;
  [[maybe_unused]] volatile long sink = 0;
  while (now() < end)
    for (long i = 0; i < 10'000; ++i) sink = i;
}

}  // namespace lab::demos
