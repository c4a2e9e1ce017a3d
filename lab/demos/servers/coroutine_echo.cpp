// echo.coroutine: the asyncio echo server on lab's event loop. One task per
// client, written like the blocking loop of echo.blocking: wait until the
// client has sent something, read it, wait until it can take the echo,
// send it. Each `co_await` hands the thread back to the loop, which runs
// whichever task's socket is ready.
//
// lesson: event-loops, slide "An echo server of coroutines"
//
// One thread for every client, as in the select and epoll servers: a
// computation in one task holds up all the others.
#include <sys/socket.h>

#include <map>
#include <string>
#include <vector>

#include <lab/event_loop.hpp>
#include <lab/net/socket.hpp>

#include "echo_connection.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

// Sends all of `data`, waiting (as a task) whenever the socket is full.
// False: the client is gone. Like asyncio's sock_sendall it tries first and
// waits only when the kernel takes nothing: most sends fit at once, and a
// wait costs the loop two epoll_ctl calls (watch, then unwatch).
task<bool> send_all_async(int fd, std::string_view data) {
  while (!data.empty()) {
    const net::io_result sent = net::send_some(fd, data);
    if (sent.status == net::io_status::would_block) {
      co_await writable(fd);
      continue;
    }
    if (sent.status != net::io_status::ok) co_return false;
    data.remove_prefix(sent.bytes);
  }
  co_return true;
}

// One client, from its first byte to its hang-up (or reset). Each recv()
// is tried first; only when nothing is there does the task wait.
task<void> echo_client_task(unique_fd client, const server_options& options) {
  std::vector<char> chunk(options.chunk);
  for (;;) {
    const net::io_result got = net::recv_some(client.get(), chunk);
    if (got.status == net::io_status::would_block) {
      co_await readable(client.get());  // the thread goes to the other tasks meanwhile
      continue;
    }
    if (got.status != net::io_status::ok) co_return;  // hung up or reset
    if (asks_for_computation(chunk.data(), got.bytes)) compute_for(options.compute);
    if (!co_await send_all_async(client.get(), {chunk.data(), got.bytes})) co_return;
    // Nothing preempts a task: a client whose bytes never run out would
    // keep the thread from every other client. Give the others their turn
    // after each chunk (a pass through the ready queue, no system call).
    co_await yield();
  }
}

// The tasks of the clients being served, by arrival: the stop button cancels them.
using client_tasks = std::map<long, join_handle<void>>;

// Accepts clients and gives each a task, until it is cancelled.
task<void> accept_clients(net::listener& listener, const server_options& options,
                          client_tasks& clients) {
  long arrivals = 0;
  for (;;) {
    co_await readable(listener.fd.get());
    std::erase_if(clients, [](const auto& entry) { return entry.second.done(); });
    unique_fd client = accept_echo_client(listener.fd.get(), /*nonblocking=*/true);
    if (!client) continue;
    say(options, "a client connected: it gets a task of its own");
    clients.emplace(++arrivals,
                    event_loop::current().spawn(echo_client_task(std::move(client), options), "client"));
  }
}

// The lecture's "stdin quits": once `stop_fd` is readable, cancels the
// acceptor and every client (each ends at its wait, closing its socket);
// then the loop has nothing left to run, and run() returns.
task<void> stop_button(int stop_fd, join_handle<void> acceptor, client_tasks& clients) {
  co_await readable(stop_fd);
  acceptor.cancel();
  for (auto& [arrival, client] : clients) client.cancel();
}

void serve_coroutines(net::listener& listener, int stop_fd, const server_options& options) {
  net::set_nonblocking(listener.fd.get());
  event_loop loop;
  client_tasks clients;  // outlives the loop's run: both tasks below use it
  auto acceptor = loop.spawn(accept_clients(listener, options, clients), "acceptor");
  loop.spawn(stop_button(stop_fd, acceptor, clients), "stop button");
  loop.run();
}

const server_registration coroutine_server{
    {.name = "echo.coroutine",
     .summary = "echo server of coroutines on lab's event loop: a task per client, one thread",
     .kind = server_kind::echo,
     .serve = serve_coroutines,
     .limits = R"({"open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
