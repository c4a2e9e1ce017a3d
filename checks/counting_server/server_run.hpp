// The student's counting server, run by a check: serve() on a thread of its
// own, real client sockets from the check, and waits decided by progress.
//
// serve() runs on a thread the check starts and does not join: if the
// server gets stuck, the check fails and leaves that thread (and the
// server's handler threads) behind, with the server and its listening
// socket kept alive for them (left_behind). The checking thread never blocks
// on a socket: clients are non-blocking and read between looks at progress,
// so a server that never answers is a verdict, not a hang.
#pragma once

#include <lab/check.hpp>
#include <lab/net/socket.hpp>
#include <lab/progress.hpp>
#include <lab/unique_fd.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "request_gate.hpp"

// The student's file defines these (exercises/counting_server.cpp).
class counting_server;
counting_server* make_counting_server();
void destroy(counting_server* server);
void counting_serve(counting_server& server, int listener_fd, int clients);
std::mutex& served_mutex(counting_server& server);

namespace server_run {

// Thrown once a check failed (or was undecided) with a server that got
// stuck: its threads cannot be joined, so the server is not destroyed.
struct left_behind {};

// What the serve() thread did. Shared with that thread.
struct run_state {
  counting_server* server = nullptr;
  std::shared_ptr<lab::net::listener> listener;
  std::atomic<long> tid{0};                      // the serve() thread; relaxed, for /proc only
  std::atomic<bool> returned{false};             // release: the fields below are written before
  std::exception_ptr error;                      // what serve() threw, if it threw
  std::vector<gate::thread_end> ends_at_return;  // handler threads ended before it returned
};

// One client: a real, non-blocking connection to the server.
struct client {
  lab::unique_fd fd;
  std::string got;       // every byte received so far
  bool closed = false;   // the server hung up (or reset)
  bool hung_up = false;  // the check itself hung up on the server (reset)
};

// The server under check, started on its thread, with its clients.
class server {
 public:
  // Starts serve(listener, clients) on a new server; the gate is reset first.
  explicit server(int clients);

  // Connects a new client; returns its index.
  std::size_t connect();
  client& at(std::size_t i) { return clients_[i]; }
  std::size_t size() const { return clients_.size(); }

  // Resets client i's connection (RST, not a polite close): the server's
  // next send to it fails.
  void hang_up(std::size_t i);

  // True when client i received its whole answer (a line) or was hung up on.
  bool answered(std::size_t i);

  // The number in client i's answer "<N, took X ms>", if it has one.
  std::optional<long> number(std::size_t i) const;

  // Waits until done() (called from this thread between reads of the
  // clients). If the server stops making progress first, fails the check
  // with a message that starts `what` (a deadlock is named as one), opens
  // the gate and throws left_behind; a machine too busy to decide marks
  // the check undecided and throws left_behind too.
  void wait_until(const std::function<bool()>& done, const std::string& what);

  // Like wait_until, but a server that stops making progress is an answer,
  // not a failure: returns false then. (A correct server does nothing while
  // the gate holds its clients.)
  bool wait_or_stall(const std::function<bool()>& done);

  // Waits until serve() returned, then rethrows what it threw. Throws
  // left_behind as wait_until does.
  void wait_for_return(const std::string& what);

  bool returned() const { return run_->returned.load(std::memory_order_acquire); }
  const run_state& run() const { return *run_; }

  // Threads of this process asleep on the server's mutex, now.
  int asleep_on_mutex() const;

  // True when the serve() thread sleeps in join() of a handler thread: a
  // futex wait for that thread's id to change, as glibc's pthread_join
  // does (/proc/self/task/<tid>/syscall shows the id it waits on).
  bool serve_thread_joins() const;

  // Keeps the student's server alive for good: threads of it may run on
  // after the check (detached handlers, say).
  void abandon() { abandoned_ = true; }

  // Destroys the student's server, unless its threads were left behind.
  ~server();

 private:
  void read_replies();
  std::uint64_t received() const;

  std::shared_ptr<run_state> run_;
  std::vector<client> clients_;
  bool abandoned_ = false;  // left behind: never destroy the server
};

}  // namespace server_run
