// echo.thread_per_client: the blocking echo loop, one thread per client.
//
// lesson: threads-processes, slide "A thread per client"
#include <sys/socket.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "echo_connection.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

// The clients being served, so that a stop can wake their threads.
class live_clients {
 public:
  void add(int fd) {
    std::scoped_lock lock(mutex_);
    fds_.insert(fd);
  }
  // Called by a client's thread before it closes `fd`: after this, stop()
  // no longer touches it (the number may be reused by the next accept).
  void remove(int fd) {
    std::scoped_lock lock(mutex_);
    fds_.erase(fd);
  }
  // Ends every client's recv(): each thread sees the end of its stream.
  void shut_all_down() {
    std::scoped_lock lock(mutex_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }

 private:
  std::mutex mutex_;
  std::set<int> fds_;  // guarded by mutex_
};

void serve_thread_per_client(net::listener& listener, int stop_fd, const server_options& options) {
  live_clients live;
  std::vector<std::thread> threads;  // joined at the end: no thread outlives the server
  while (wait_for_client_or_stop(listener.fd.get(), stop_fd)) {
    unique_fd client = accept_echo_client(listener.fd.get());
    if (!client) continue;
    live.add(client.get());
    say(options, "a client connected: it gets a thread of its own");
    threads.emplace_back([&live, &options, client = std::move(client)] {
      echo_until_hangup(client.get(), options);  // blocks only this thread
      live.remove(client.get());
    });  // the lambda's copy of `client` closes the socket when the thread ends
  }
  live.shut_all_down();
  for (auto& thread : threads) thread.join();
}

const server_registration thread_server{
    {.name = "echo.thread_per_client",
     .summary = "echo server with a thread per client, each blocking on its own",
     .kind = server_kind::echo,
     .serve = serve_thread_per_client,
     .limits = R"({"max_tasks": 2048, "open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
