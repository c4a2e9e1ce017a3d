// echo.process_per_client: the blocking echo loop in a fork()ed process per
// client.
//
// lesson: threads-processes, slide "A process per client"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "echo_connection.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

// Collects the children that have finished, so that none stays a zombie.
void reap_finished(std::set<pid_t>& children) {
  for (pid_t pid; (pid = ::waitpid(-1, nullptr, WNOHANG)) > 0;) children.erase(pid);
}

void serve_process_per_client(net::listener& listener, int stop_fd, const server_options& options) {
  std::set<pid_t> children;
  while (wait_for_client_or_stop(listener.fd.get(), stop_fd)) {
    reap_finished(children);
    unique_fd client = accept_echo_client(listener.fd.get());
    if (!client) continue;
    const pid_t pid = ::fork();
    if (pid == 0) {
      // The child: it only talks to its client. It leaves with _exit(),
      // never by returning into the parent's accept loop.
      ::close(listener.fd.get());
      ::close(stop_fd);
      echo_until_hangup(client.get(), options);
      ::_exit(0);
    }
    if (pid > 0) {
      children.insert(pid);
      say(options, "a client connected: it gets a process of its own");
    } else {
      std::perror("echo.process_per_client: fork (this client is turned away)");
    }
    // The parent closes its copy of the client here (the child has its own).
  }
  for (pid_t pid : children) ::kill(pid, SIGTERM);
  for (pid_t pid : children) ::waitpid(pid, nullptr, 0);
}

const server_registration process_server{
    {.name = "echo.process_per_client",
     .summary = "echo server with a fork()ed process per client",
     .kind = server_kind::echo,
     .serve = serve_process_per_client,
     .limits = R"({"max_tasks": 2048, "open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
