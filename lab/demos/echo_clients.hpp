// The clients of the echo demos: real sockets on the loopback, timed.
//
//   small_client   one short message and its echo: the client that should not wait
//   big_client     "Shakespeare": megabytes streamed and read back at once
//   idle_crowd     many connections, one byte echoed on each, then kept idle
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <lab/unique_fd.hpp>

namespace lab::demos {

using clock_type = std::chrono::steady_clock;

// Milliseconds between two instants, for printing.
double ms_between(clock_type::time_point from, clock_type::time_point to);

// One message sent and its echo awaited, on a connection of its own.
struct exchange {
  clock_type::time_point sent;
  clock_type::time_point answered;
  bool echoed = false;  // the same bytes came back
  double wait_ms() const { return ms_between(sent, answered); }
};

// Connects to the server (before the clock starts), sends `message` and
// waits for all of it to come back.
exchange small_client(std::uint16_t port, std::string_view message);

// The median round trip of `times` small exchanges one after another.
double median_round_trip_ms(std::uint16_t port, int times);

// Streams `bytes` to the server on one connection while reading the echo
// back on another thread (an echo server stops reading from a client that
// does not read its echo). Then half-closes and reads to the end.
// Every byte that comes back is compared with what was sent.
class big_client {
 public:
  // Starts at once; `mark`: the number of echoed bytes wait_for_mark() waits for.
  big_client(std::uint16_t port, std::size_t bytes, std::size_t mark);
  ~big_client();
  big_client(const big_client&) = delete;
  big_client& operator=(const big_client&) = delete;

  // Waits until `mark` bytes have come back: the server is busy with us.
  void wait_for_mark();

  struct result {
    clock_type::time_point started;
    clock_type::time_point sent_all;  // every byte handed to the kernel, and the half-close sent
    clock_type::time_point done;      // the last echoed byte arrived
    std::size_t echoed = 0;
    bool intact = false;  // every byte came back, in order
  };
  // Waits for the whole echo.
  result finish();

 private:
  void send_everything();
  void read_everything();

  unique_fd socket_;
  std::string payload_;
  std::size_t mark_;
  result result_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool marked_ = false;  // guarded by mutex_
  std::thread writer_;
  std::thread reader_;
};

// What `count` idle connections got when each sent one byte.
struct crowd_result {
  long connected = 0;
  long echoed = 0;
  long turned_away = 0;       // the server closed or reset the connection
  long silent = 0;            // no answer within the wait
  std::string connect_error;  // why connecting stopped early; "" if all connected
};

// `count` connections, opened and kept open; then each sends one byte and
// waits for its echo (all of them within `wait` in all), so that every one
// of them has been taken in by the server. They stay open, idle, until it is
// destroyed.
class idle_crowd {
 public:
  idle_crowd(std::uint16_t port, long count, std::chrono::milliseconds wait);
  const crowd_result& result() const { return result_; }

 private:
  std::vector<unique_fd> sockets_;
  crowd_result result_;
};

// A closed-loop load of `connections` on 127.0.0.1:`port` for `seconds`
// with messages of `size` bytes (lab load's generator, lab/net/load_generator.hpp).
struct load_result {
  double per_second = 0;
  double p99_us = 0;
  long errors = 0;
  std::string failure;  // why the load could not run, if it could not; then no figures
};
load_result drive_load(std::uint16_t port, int connections, double seconds, std::size_t size);

}  // namespace lab::demos
