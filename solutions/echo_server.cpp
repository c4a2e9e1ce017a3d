// Exercise: echo_server (reference solution)      lessons: blocking, select, event-loops
//
// Three echo servers on a listening socket the checks made, each serving
// until `stop_fd` becomes readable (the lecture's select server quits when
// you type on stdin; the checks write a byte to a pipe instead).
//   1. serve_blocking  one client at a time, blocking calls
//   2. serve_select    one thread, every client: select() and a queue of
//                      bytes to echo per client
//   3. serve_epoll     the same loop on epoll
#include <lab/net/epoll_set.hpp>
#include <lab/net/select_set.hpp>
#include <lab/net/socket.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace net = lab::net;

// Given: waits until a client waits to be accepted on `listener_fd` (true)
// or `stop_fd` is readable (false). The blocking server's only select().
bool wait_for_client_or_stop(int listener_fd, int stop_fd) {
  for (;;) {
    net::select_set sets;  // rebuilt every time: select() overwrites it
    sets.watch_read(listener_fd);
    sets.watch_read(stop_fd);
    if (sets.wait(net::wait_forever) == 0) continue;  // a signal came: look again
    if (sets.readable(stop_fd)) return false;
    if (sets.readable(listener_fd)) return true;
  }
}

// ---- Stage 1: one client at a time ------------------------------------------
// lesson: blocking, slide "In C++"

void serve_blocking(int listener_fd, int stop_fd) {
  while (wait_for_client_or_stop(listener_fd, stop_fd)) {
    const lab::unique_fd client = net::accept_client(listener_fd);
    if (!client) continue;  // it gave up before we took it
    char chunk[4096];
    for (;;) {
      // recv_some may return less than the client sent, or more than one of
      // its sends at once: TCP delivers bytes, not messages.
      const net::io_result got = net::recv_some(client.get(), chunk);
      if (got.status != net::io_status::ok) break;  // hung up or reset
      // send_all goes on after a partial send; false: the client is gone.
      if (!net::send_all(client.get(), {chunk, got.bytes})) break;
    }
  }  // each client's socket is closed by its unique_fd when its loop ends
}

// ---- Stages 2 and 3: every client on one thread --------------------------------
// lesson: select, slide "A queue of replies per client"

namespace {

// One client of the event loop: its non-blocking socket and the bytes read
// from it and not yet echoed.
struct client_state {
  lab::unique_fd fd;
  std::string outgoing;
  bool input_ended = false;  // it half-closed: echo what is queued, then close
};

// The most bytes queued for one client. A client that sends but does not
// read its echo would otherwise make the server buffer without end; at this
// size the loop stops reading from it until it reads again.
constexpr std::size_t max_queued_bytes = 256 << 10;

bool wants_input(const client_state& client) {
  return !client.input_ended && client.outgoing.size() < max_queued_bytes;
}

bool wants_output(const client_state& client) {
  return !client.outgoing.empty();
}

// Done with the client: it sent its last byte and got every echo back.
bool finished(const client_state& client) {
  return client.input_ended && client.outgoing.empty();
}

// The client is readable: one recv() onto its queue. One call, not a loop
// until EAGAIN, so that one fast client cannot keep the loop to itself.
// False: the client reset the connection.
bool take_input(client_state& client) {
  char chunk[64 << 10];
  const net::io_result got = net::recv_some(client.fd.get(), chunk);
  if (got.status == net::io_status::would_block) return true;  // nothing after all
  if (got.status == net::io_status::closed) {
    client.input_ended = true;
    return true;
  }
  if (got.status != net::io_status::ok) return false;
  client.outgoing.append(chunk, got.bytes);
  return true;
}

// The client is writable: one send() of its queue; what the kernel did not
// take stays queued for the next turn (never wait here: others are waiting).
// False: the client is gone.
bool give_output(client_state& client) {
  const net::io_result sent = net::send_some(client.fd.get(), client.outgoing);
  if (sent.status == net::io_status::would_block) return true;
  if (sent.status != net::io_status::ok) return false;
  client.outgoing.erase(0, sent.bytes);
  return true;
}

}  // namespace

// ---- Stage 2: a select() loop -------------------------------------------------
// lesson: select, slides "The loop in C++" and "A queue of replies per client"

void serve_select(int listener_fd, int stop_fd) {
  net::set_nonblocking(listener_fd);
  std::map<int, client_state> clients;  // by descriptor
  for (;;) {
    net::select_set sets;  // rebuilt every turn: select() overwrites it
    sets.watch_read(listener_fd);
    sets.watch_read(stop_fd);
    for (const auto& [fd, client] : clients) {
      if (wants_input(client)) sets.watch_read(fd);
      if (wants_output(client)) sets.watch_write(fd);  // only while an echo waits
    }
    if (sets.wait(net::wait_forever) == 0) continue;  // a signal came: look again
    if (sets.readable(stop_fd)) return;               // every client is closed with `clients`
    if (sets.readable(listener_fd)) {
      lab::unique_fd client = net::accept_client(listener_fd, /*nonblocking=*/true);
      // select() cannot watch descriptors from FD_SETSIZE up: turn it away.
      if (client && client.get() < net::select_limit_fds) {
        const int fd = client.get();
        clients[fd] = client_state{std::move(client), {}, false};
      }
    }
    std::vector<int> gone;
    for (auto& [fd, client] : clients) {
      const bool alive =
          (!sets.readable(fd) || take_input(client)) && (!sets.writable(fd) || give_output(client));
      if (!alive || finished(client)) gone.push_back(fd);
    }
    for (const int fd : gone) clients.erase(fd);  // closes the socket
  }
}

// ---- Stage 3: the same loop on epoll --------------------------------------------
// lesson: event-loops, slide "epoll"

namespace {

// What `client` should be watched for now.
std::uint32_t interest(const client_state& client) {
  return (wants_input(client) ? EPOLLIN : 0u) | (wants_output(client) ? EPOLLOUT : 0u);
}

}  // namespace

void serve_epoll(int listener_fd, int stop_fd) {
  net::set_nonblocking(listener_fd);
  net::epoll_set loop;  // registered once each, not rebuilt every turn
  loop.add(listener_fd, EPOLLIN);
  loop.add(stop_fd, EPOLLIN);
  std::map<int, client_state> clients;      // by descriptor
  std::map<int, std::uint32_t> registered;  // what each client is watched for
  for (;;) {
    for (const epoll_event& ready : loop.wait(net::wait_forever)) {
      const int fd = ready.data.fd;
      if (fd == stop_fd) return;
      if (fd == listener_fd) {
        lab::unique_fd client = net::accept_client(listener_fd, /*nonblocking=*/true);
        if (!client) continue;
        const int client_fd = client.get();
        loop.add(client_fd, EPOLLIN);
        registered[client_fd] = EPOLLIN;
        clients[client_fd] = client_state{std::move(client), {}, false};
        continue;
      }
      client_state& client = clients.at(fd);
      // EPOLLHUP and EPOLLERR come whatever we asked for: recv() tells which.
      const bool readable = (ready.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0;
      const bool writable = (ready.events & EPOLLOUT) != 0;
      const bool alive = (!readable || take_input(client)) && (!writable || give_output(client));
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
