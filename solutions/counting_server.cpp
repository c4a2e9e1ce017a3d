// Solution: counting_server                          lesson: locks (`bin/lab lesson locks`)
//
// A thread per client, and a lock held only while a client takes its
// number: clients are served at the same time, and each gets a number of
// its own. The lesson's locked server (the whole request under the lock)
// also gives unique numbers, but serves one client at a time.
#include <lab/net/socket.hpp>
#include <lab/unique_fd.hpp>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

// Given by the checks: the slow part of a request.
std::chrono::steady_clock::duration simulate_request();

// Sends "<N, took X ms>\n" to the client. False when the client hung up
// before its answer.
bool reply(int client, long number, std::chrono::steady_clock::duration took) {
  char text[64];
  std::snprintf(text, sizeof text, "<%ld, took %.1f ms>\n", number,
                std::chrono::duration<double, std::milli>(took).count());
  return lab::net::send_all(client, text);
}

class counting_server {
 public:
  // Called for many clients at once, each on a thread of its own.
  void handle(int client) {
    long number = 0;
    {
      // The read and the write of served_ are one step for every other
      // thread; nothing slow happens while the lock is held.
      std::scoped_lock lock(mu_);
      number = ++served_;
    }
    const auto took = simulate_request();  // outside the lock: clients overlap here
    reply(client, number, took);           // a client that hung up is no concern of the others
  }

  // A thread per client. Each thread owns its connection (the unique_fd
  // moved into it closes it when the handler is done). Every thread is
  // joined before serve() returns: none of them outlives the server.
  void serve(int listener_fd, int clients) {
    std::vector<std::thread> handlers;
    while (static_cast<int>(handlers.size()) < clients) {
      lab::unique_fd client = lab::net::accept_client(listener_fd);
      if (!client) continue;  // the client gave up before we took it
      handlers.emplace_back([this, client = std::move(client)] { handle(client.get()); });
    }
    for (auto& handler : handlers) handler.join();
  }

  std::mutex& mutex() { return mu_; }

 private:
  std::mutex mu_;    // guards served_
  long served_ = 0;  // clients served so far; guarded by mu_
};

// The checks call these.
counting_server* make_counting_server() {
  return new counting_server;
}
void destroy(counting_server* server) {
  delete server;
}
void counting_serve(counting_server& server, int listener_fd, int clients) {
  server.serve(listener_fd, clients);
}
std::mutex& served_mutex(counting_server& server) {
  return server.mutex();
}
