// echo.green: gevent's StreamServer in C++. A green thread per client, each
// running the blocking echo loop of echo.blocking, unchanged: recv() a
// chunk, send() it back. With patching on (lab/green_patch.hpp) those calls,
// and the poll() that waits for the next client, wait through the hub
// instead of blocking the thread, so one thread serves every client.
//
// lesson: green-threads, slide "A server of green threads"
//
// Like an event loop it runs one client's code at a time: a computation in
// one greenlet holds up the others (the hub's watchdog names it on stderr).
#include <memory>
#include <vector>

#include <lab/green.hpp>
#include <lab/green_patch.hpp>

#include "echo_connection.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

void serve_green_echo(net::listener& listener, int stop_fd, const server_options& options) {
  green::patch_all();  // this process serves, and nothing else: patch it all, as gevent does
  green::spawn_named("acceptor", [&listener, stop_fd, &options] {
    std::vector<green::greenlet<void>> clients;  // to stop them when the server stops
    while (wait_for_client_or_stop(listener.fd.get(), stop_fd)) {  // a green poll()
      std::erase_if(clients, [](const green::greenlet<void>& g) { return g.done(); });
      // A greenlet's function is copied, so the socket travels in a shared_ptr.
      auto client = std::make_shared<unique_fd>(accept_echo_client(listener.fd.get()));
      if (!*client) continue;
      say(options, "a client connected: it gets a green thread of its own");
      clients.push_back(green::spawn_named("client", [client, &options] {
        echo_until_hangup(client->get(), options);  // blocking calls, made green by the patch
      }));
    }
    for (const auto& g : clients) g.kill();  // each ends at its wait, closing its socket
  });
  green::run();
  green::unpatch_all();
}

const server_registration green_echo_server{
    {.name = "echo.green",
     .summary = "echo server with a green thread per client: blocking code, one thread",
     .kind = server_kind::echo,
     .serve = serve_green_echo,
     .limits = R"({"open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
