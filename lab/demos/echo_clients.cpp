#include "echo_clients.hpp"

#include <lab/net/load_generator.hpp>

#include <poll.h>

#include <algorithm>
#include <vector>

#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>

namespace lab::demos {
namespace {

// Bytes the big client sends: letters in a pattern it can check on the way
// back (and never the byte that asks a server to compute).
char payload_byte(std::size_t i) {
  return static_cast<char>('a' + (i * 7) % 26);
}

}  // namespace

double ms_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

exchange small_client(std::uint16_t port, std::string_view message) {
  const unique_fd socket = net::connect_loopback(port);
  exchange result;
  result.sent = clock_type::now();
  std::string answer(message.size(), '\0');
  const bool sent = net::send_all(socket.get(), message);
  const std::size_t got = sent ? net::recv_exact(socket.get(), answer) : 0;
  result.answered = clock_type::now();
  result.echoed = got == message.size() && answer == message;
  return result;
}

double median_round_trip_ms(std::uint16_t port, int times) {
  std::vector<double> trips;
  for (int i = 0; i < times; ++i) trips.push_back(small_client(port, "hi\n").wait_ms());
  std::sort(trips.begin(), trips.end());
  return trips[trips.size() / 2];
}

big_client::big_client(std::uint16_t port, std::size_t bytes, std::size_t mark)
    : socket_(net::connect_loopback(port)), payload_(bytes, '\0'), mark_(std::min(mark, bytes)) {
  for (std::size_t i = 0; i < bytes; ++i) payload_[i] = payload_byte(i);
  result_.started = clock_type::now();
  reader_ = std::thread(&big_client::read_everything, this);
  writer_ = std::thread(&big_client::send_everything, this);
}

big_client::~big_client() {
  if (writer_.joinable()) writer_.join();
  if (reader_.joinable()) reader_.join();
}

// Runs on writer_: result_.sent_all is written only here until finish() joins it.
void big_client::send_everything() {
  if (net::send_all(socket_.get(), payload_)) net::shutdown_write(socket_.get());
  result_.sent_all = clock_type::now();
}

// Runs on reader_: result_'s other fields are written only here until
// finish() joins it.
void big_client::read_everything() {
  std::vector<char> buffer(64 << 10);
  bool intact = true;
  std::size_t echoed = 0;
  for (;;) {
    const net::io_result got = net::recv_some(socket_.get(), buffer);
    if (got.status != net::io_status::ok)
      break;  // the server closed: all is back, or never will be
    for (std::size_t i = 0; i < got.bytes; ++i)
      intact = intact && echoed + i < payload_.size() && buffer[i] == payload_byte(echoed + i);
    echoed += got.bytes;
    if (echoed == payload_.size()) result_.done = clock_type::now();
    if (echoed >= mark_) {
      std::scoped_lock lock(mutex_);
      if (!marked_) {
        marked_ = true;
        changed_.notify_all();
      }
    }
  }
  if (echoed != payload_.size()) result_.done = clock_type::now();
  result_.echoed = echoed;
  result_.intact = intact && echoed == payload_.size();
  std::scoped_lock lock(mutex_);
  marked_ = true;  // also when it ended early: nobody waits for a mark that will not come
  changed_.notify_all();
}

void big_client::wait_for_mark() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return marked_; });
}

big_client::result big_client::finish() {
  writer_.join();
  reader_.join();
  return result_;
}

idle_crowd::idle_crowd(std::uint16_t port, long count, std::chrono::milliseconds wait) {
  crowd_result& result = result_;
  std::vector<unique_fd>& sockets = sockets_;
  for (long i = 0; i < count; ++i) {
    try {
      sockets.push_back(net::connect_loopback(port));
    } catch (const net::error& error) {
      result.connect_error = error.what();
      break;
    }
  }
  result.connected = static_cast<long>(sockets.size());
  const auto deadline = clock_type::now() + wait;  // for every echo together: a stuck server
                                                   // costs `wait` once, not once per client
  for (const unique_fd& socket : sockets) {
    char byte = 'x';
    if (!net::send_all(socket.get(), {&byte, 1})) {
      ++result.turned_away;
      continue;
    }
    pollfd entry{socket.get(), POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (::poll(&entry, 1, static_cast<int>(std::max<long>(left.count(), 0))) <= 0) {
      ++result.silent;
      continue;
    }
    const net::io_result got = net::recv_some(socket.get(), {&byte, 1});
    if (got.status == net::io_status::ok && byte == 'x')
      ++result.echoed;
    else
      ++result.turned_away;
  }
}

load_result drive_load(std::uint16_t port, int connections, double seconds, std::size_t size) {
  net::load_plan plan;
  plan.port = port;
  plan.connections = connections;
  plan.duration = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  plan.message_size = size;
  try {
    const net::load_report report = net::run_load(plan);
    return {report.per_second(), report.percentile_us(0.99), static_cast<long>(report.errors), {}};
  } catch (const std::exception& error) {
    return {0, 0, 0, error.what()};
  }
}

}  // namespace lab::demos
