// echo.blocking: one client at a time, 16 bytes per recv().
//
// lesson: blocking, slides "In C++" and "Shakespeare, 16 bytes at a time"
#include "echo_connection.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

void serve_blocking(net::listener& listener, int stop_fd, const server_options& options) {
  while (wait_for_client_or_stop(listener.fd.get(), stop_fd)) {
    const unique_fd client = accept_echo_client(listener.fd.get());
    if (!client) continue;
    say(options, "a client connected: every other client waits until it hangs up");
    echo_until_hangup(client.get(), options);  // the whole loop belongs to this client
    say(options, "the client hung up: the next one in the backlog may come in");
  }
}

const server_registration blocking{{.name = "echo.blocking",
                                    .summary = "echo server that serves one client at a time",
                                    .kind = server_kind::echo,
                                    .serve = serve_blocking}};

}  // namespace
}  // namespace lab::demos
