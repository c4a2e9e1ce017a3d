// Exercise: counting_server                          lesson: locks (`bin/lab lesson locks`)
//
// Goal: the lecture's counting server, threaded and right. Every client that
// connects gets "<N, took X ms>": N is its number, 1 for the first client,
// 2 for the second, ... Many clients connect at once, and each must get a
// number of its own, with no number skipped.
//   1. a thread per client, and the number taken under a std::mutex
//      (the lesson's locked server: the whole request may be inside the lock)
//   2. the lock held only while taking the number: the simulated request runs
//      outside it, so clients are served at the same time, not one by one
//
// The checks connect real clients to your server over 127.0.0.1, and give
// you simulate_request(): the slow part of each request. They can hold a
// client inside it as long as they like, so a number handed out twice or a
// client kept waiting for another one's request shows up in every run.
//
// As written, serve() handles each client itself, one after the other, and
// handle() takes its number with no lock.
//
// Run the checks:  bin/lab exercise counting_server     (or --stage 2)
// Stuck?           bin/lab hint counting_server
// Compare:         bin/lab demo counting.threaded, bin/lab demo counting.locked
#include <lab/net/socket.hpp>
#include <lab/unique_fd.hpp>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

// Given by the checks: the slow part of a request (the lecture's busy loop).
// Call it once per client, after taking the client's number and before
// replying. Returns how long it took.
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
  // Serves one client: gives it the next number. Called for many clients
  // at once when serve() runs a thread per client.
  void handle(int client) {
    // TODO (stage 1): the read and the write of served_ below must be one
    // step for every other thread: guard them with mu_ (std::scoped_lock).
    // TODO (stage 2): keep simulate_request() outside the lock.
    const long number = served_ + 1;
    const auto took = simulate_request();
    served_ = number;
    reply(client, number, took);
  }

  // Accepts `clients` clients on `listener_fd` and serves each with
  // handle(); returns once every client has been served.
  void serve(int listener_fd, int clients) {
    for (int served = 0; served < clients;) {
      const lab::unique_fd client = lab::net::accept_client(listener_fd);
      if (!client) continue;  // the client gave up before we took it
      // TODO (stage 1): the next client waits for this whole request. Start a
      // std::thread per client that runs handle() (it must own the
      // connection: move the unique_fd into it), keep the threads, and join
      // them all after the loop.
      handle(client.get());
      ++served;
    }
  }

  // The checks look at who waits for this mutex.
  std::mutex& mutex() { return mu_; }

 private:
  std::mutex mu_;    // TODO: say in a comment what it guards, and make it so
  long served_ = 0;  // clients served so far
};

// The checks call these; leave them as they are.
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
