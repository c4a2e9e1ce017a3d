// echo.epoll: the same loop on epoll. Each client is registered once; the
// loop asks for writability only while a reply waits in its queue.
//
// lesson: event-loops, slide "epoll"
#include <map>

#include <lab/net/epoll_set.hpp>

#include "echo_connection.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

// What `client` should be watched for now.
std::uint32_t interest(const echo_client& client) {
  return (wants_input(client) ? EPOLLIN : 0u) | (client.outgoing.empty() ? 0u : EPOLLOUT);
}

void serve_epoll(net::listener& listener, int stop_fd, const server_options& options) {
  net::set_nonblocking(listener.fd.get());
  net::epoll_set loop;
  loop.add(listener.fd.get(), EPOLLIN);
  loop.add(stop_fd, EPOLLIN);
  std::map<int, echo_client> clients;       // by descriptor
  std::map<int, std::uint32_t> registered;  // what each client is watched for
  for (;;) {
    for (const epoll_event& ready : loop.wait(net::wait_forever)) {
      const int fd = ready.data.fd;
      if (fd == stop_fd) return;
      if (fd == listener.fd.get()) {
        unique_fd client = accept_echo_client(fd, /*nonblocking=*/true);
        if (!client) continue;
        const int client_fd = client.get();
        loop.add(client_fd, EPOLLIN);
        registered[client_fd] = EPOLLIN;
        clients[client_fd] = echo_client{std::move(client), {}};
        continue;
      }
      echo_client& client = clients.at(fd);
      const bool readable = (ready.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
      // After a read the reply goes out at once: it usually fits in the
      // socket's buffer, and only what does not waits for EPOLLOUT (which
      // saves two epoll_ctl calls per round trip).
      const bool alive = (!readable || take_chunk(client, options)) &&
                         (client.outgoing.empty() || send_queued(client));
      if (!alive || finished(client)) {
        clients.erase(fd);  // closing it also takes it off the interest list
        registered.erase(fd);
        continue;
      }
      if (const std::uint32_t wanted = interest(client); wanted != registered[fd]) {
        loop.modify(fd, wanted);
        registered[fd] = wanted;
      }
    }
  }
}

const server_registration epoll_server{
    {.name = "echo.epoll",
     .summary = "echo server on epoll: registered once, woken only for what is ready",
     .kind = server_kind::echo,
     .serve = serve_epoll,
     .limits = R"({"open_files": 16384})"}};

}  // namespace
}  // namespace lab::demos
