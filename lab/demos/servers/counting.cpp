// The counting servers: each connection gets "<N, took X ms>", N being the
// number of requests served so far, after a simulated request.
//
// lesson: races, slides "The handler" and "Threaded, with clients at once";
// lesson: locks, slide "Why scoped locking"
//
//   counting.naive     one connection at a time: correct, and slow for the queue
//   counting.threaded  a thread per connection, nothing guarding the counter: updates get lost
//   counting.locked    the same with the whole handler under a mutex: every N unique
//
// The window between the read and the write is the simulated request
// (work_ms, a sleep: the lecture's busy loop, made long enough that clients
// who arrive together always fall into it).

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <lab/net/socket.hpp>

#include "counting_reply.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

// The number of requests served, shared by every request. Threads read and
// write it at once in counting.threaded: a std::atomic keeps each single
// access well defined, and the separate relaxed load and store keep the
// read-modify-write exactly as racy as the lecture's `tmp = self.n; ...;
// self.n = tmp + 1`.
struct counter {
  std::atomic<long> served{0};
};

// The handler: read, work, write, reply.
void handle(int client, counter& c, const server_options& options) {
  const auto start = clock_type::now();
  const long tmp = c.served.load(std::memory_order_relaxed);  // read
  std::this_thread::sleep_for(options.work);                  // the simulated request
  c.served.store(tmp + 1, std::memory_order_relaxed);         // write
  reply_with_number(client, tmp + 1, clock_type::now() - start);
}

void serve_naive(net::listener& listener, int stop_fd, const server_options& options) {
  counter c;
  while (wait_for_client_or_stop(listener.fd.get(), stop_fd)) {
    const unique_fd client = net::accept_client(listener.fd.get());
    if (client) handle(client.get(), c, options);  // the next client waits for this one
  }
}

// A thread per connection, running `handler`. Finished threads are joined
// as the server goes (a long `lab load` makes thousands), the rest at the end.
template <typename Handler>
void serve_threaded_with(net::listener& listener, int stop_fd, Handler handler) {
  struct worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;  // set by the thread as its last step
  };
  std::vector<worker> workers;
  while (wait_for_client_or_stop(listener.fd.get(), stop_fd)) {
    std::erase_if(workers, [](worker& w) {
      // acquire: pairs with the release below; the thread is past its work.
      if (!w.done->load(std::memory_order_acquire)) return false;
      w.thread.join();
      return true;
    });
    unique_fd client = net::accept_client(listener.fd.get());
    if (!client) continue;
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers.push_back({std::thread([handler, done, client = std::move(client)]() mutable {
                         handler(client.get());
                         client.reset();
                         done->store(true, std::memory_order_release);
                       }),
                       done});
  }
  for (auto& w : workers) w.thread.join();
}

void serve_threaded(net::listener& listener, int stop_fd, const server_options& options) {
  counter c;
  serve_threaded_with(listener, stop_fd, [&](int client) { handle(client, c, options); });
}

void serve_locked(net::listener& listener, int stop_fd, const server_options& options) {
  counter c;
  std::mutex served_mutex;  // guards the whole read-work-write of c.served
  serve_threaded_with(listener, stop_fd, [&](int client) {
    std::scoped_lock lock(served_mutex);  // every other request waits here
    handle(client, c, options);
  });
}

const server_registration naive{{.name = "counting.naive",
                                 .summary = "counting server, one connection at a time",
                                 .kind = server_kind::counting,
                                 .serve = serve_naive}};
const server_registration threaded{{.name = "counting.threaded",
                                    .summary = "counting server, a thread per connection, no lock",
                                    .kind = server_kind::counting,
                                    .serve = serve_threaded,
                                    .limits = R"({"max_tasks": 1024})"}};
const server_registration locked{
    {.name = "counting.locked",
     .summary = "counting server, a thread per connection, the handler under a mutex",
     .kind = server_kind::counting,
     .serve = serve_locked,
     .limits = R"({"max_tasks": 1024})"}};

}  // namespace
}  // namespace lab::demos
