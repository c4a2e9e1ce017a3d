// echo.poll: the select server's loop on poll(): an array instead of a
// bitmap, so no limit at FD_SETSIZE, but still every entry on every call.
//
// lesson: select, slide "poll, epoll, kqueue, IOCP"
#include <map>
#include <vector>

#include <lab/net/poll_set.hpp>

#include "echo_connection.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

void serve_poll(net::listener& listener, int stop_fd, const server_options& options) {
  net::set_nonblocking(listener.fd.get());
  std::map<int, echo_client> clients;  // by descriptor
  net::poll_set watched;
  for (;;) {
    watched.clear();
    watched.add(listener.fd.get(), POLLIN);
    watched.add(stop_fd, POLLIN);
    for (const auto& [fd, client] : clients)
      watched.add(fd, static_cast<short>((wants_input(client) ? POLLIN : 0) |
                                         (client.outgoing.empty() ? 0 : POLLOUT)));
    watched.wait(net::wait_forever);
    const auto entries = watched.entries();
    if (entries[1].revents != 0) break;
    if (entries[0].revents != 0) {
      unique_fd client = accept_echo_client(listener.fd.get(), /*nonblocking=*/true);
      if (client) {
        const int fd = client.get();
        clients[fd] = echo_client{std::move(client), {}};  // not in this turn's entries
      }
    }
    std::vector<int> gone;
    for (const pollfd& entry : entries.subspan(2)) {
      if (entry.revents == 0) continue;
      echo_client& client = clients.at(entry.fd);
      // POLLHUP and POLLERR come without being asked: a recv() tells which.
      const bool readable = (entry.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
      const bool alive = (!readable || take_chunk(client, options)) &&
                         ((entry.revents & POLLOUT) == 0 || send_queued(client));
      if (!alive || finished(client)) gone.push_back(entry.fd);
    }
    for (int fd : gone) clients.erase(fd);
  }
}

const server_registration poll_server{{.name = "echo.poll",
                                       .summary = "echo server on poll(): no limit at 1024",
                                       .kind = server_kind::echo,
                                       .serve = serve_poll,
                                       .limits = R"({"open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
