// echo.select: one thread, every client, select() and a queue of replies per
// client. Above FD_SETSIZE it turns clients away, saying why.
//
// lesson: select, slides "The loop in C++", "A queue of replies per client"
// and "How far select scales"
#include <fmt/core.h>

#include <map>
#include <vector>

#include <lab/net/select_set.hpp>

#include "echo_connection.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

// Accepts one waiting client, unless select() could not watch its
// descriptor: then it is closed at once (turned away), and the first time
// that happens the server says why.
void accept_one(int listener_fd, std::map<int, echo_client>& clients, long& refused) {
  unique_fd client = accept_echo_client(listener_fd, /*nonblocking=*/true);
  if (!client) return;
  if (client.get() >= net::select_limit_fds) {
    if (refused++ == 0)
      fmt::print("echo.select: turning clients away: {}\n", net::select_limit(client.get()).what());
    std::fflush(stdout);
    return;  // closed here
  }
  const int fd = client.get();
  clients[fd] = echo_client{std::move(client), {}};
}

void serve_select(net::listener& listener, int stop_fd, const server_options& options) {
  net::set_nonblocking(listener.fd.get());
  std::map<int, echo_client> clients;  // by descriptor
  long refused = 0;
  for (;;) {
    // The sets are rebuilt every turn: select() overwrites them.
    net::select_set sets;
    sets.watch_read(listener.fd.get());
    sets.watch_read(stop_fd);
    for (const auto& [fd, client] : clients) {
      if (wants_input(client)) sets.watch_read(fd);
      if (!client.outgoing.empty()) sets.watch_write(fd);  // only while a reply waits
    }
    sets.wait(net::wait_forever);
    if (sets.readable(stop_fd)) break;
    if (sets.readable(listener.fd.get())) accept_one(listener.fd.get(), clients, refused);
    std::vector<int> gone;
    for (auto& [fd, client] : clients) {
      // Each ready client gets one recv() and what fits of one send() per
      // turn: nobody holds the loop for long, unless it asks to compute.
      const bool alive = (!sets.readable(fd) || take_chunk(client, options)) &&
                         (!sets.writable(fd) || send_queued(client));
      if (!alive || finished(client)) gone.push_back(fd);
    }
    for (int fd : gone) clients.erase(fd);  // closes the socket
  }
  if (refused > 0)
    fmt::print("echo.select: {} client{} turned away in all (descriptors from {} up)\n", refused,
               refused == 1 ? " was" : "s were", net::select_limit_fds);
}

const server_registration select_server{
    {.name = "echo.select",
     .summary = "echo server on select(): one thread, a queue of replies per client",
     .kind = server_kind::echo,
     .serve = serve_select,
     .limits = R"({"open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
