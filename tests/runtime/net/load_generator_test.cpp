#include "lab/net/load_generator.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "lab/net/socket.hpp"

namespace {

// A small echo server for the test: a thread per client, stopped by closing
// its listener's clients; enough to be driven for a fraction of a second.
class echo_server {
 public:
  echo_server() : listener_(lab::net::listen_loopback()) {
    acceptor_ = std::thread([this] {
      for (;;) {
        lab::unique_fd client = lab::net::accept_client(listener_.fd.get());
        if (!client || stopping_.load()) return;
        clients_.emplace_back([fd = std::move(client)] {
          char chunk[256];
          for (;;) {
            const auto got = lab::net::recv_some(fd.get(), chunk);
            if (got.status != lab::net::io_status::ok) return;
            if (!lab::net::send_all(fd.get(), {chunk, got.bytes})) return;
          }
        });
      }
    });
  }
  ~echo_server() {
    stopping_.store(true);
    lab::net::connect_loopback(listener_.port);  // wakes accept(); closed at once
    acceptor_.join();
    for (auto& client : clients_) client.join();  // each ends when the load closes its socket
  }
  std::uint16_t port() const { return listener_.port; }

 private:
  lab::net::listener listener_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> clients_;  // touched by the acceptor, then joined after it
  std::thread acceptor_;
};

}  // namespace

TEST_CASE("run_load counts round trips against an echo server with one latency each") {
  echo_server server;
  lab::net::load_plan plan;
  plan.port = server.port();
  plan.connections = 4;
  plan.duration = std::chrono::milliseconds(300);
  plan.message_size = 100;
  const auto report = lab::net::run_load(plan);
  CHECK(report.round_trips > 0);
  CHECK(report.errors == 0);
  CHECK(report.latencies_us.size() == report.round_trips);
  CHECK(report.percentile_us(0.5) <= report.percentile_us(0.99));
  CHECK(report.percentile_us(0.99) <= report.max_us());
  CHECK(report.threads >= 1);
  CHECK(report.threads <= 4);
}

TEST_CASE("run_load refuses a plan outside its bounds") {
  lab::net::load_plan plan;
  plan.port = 1;
  plan.connections = lab::net::max_load_connections + 1;
  CHECK_THROWS_AS(lab::net::run_load(plan), std::invalid_argument);
  plan.connections = 1;
  plan.duration = std::chrono::seconds(61);
  CHECK_THROWS_AS(lab::net::run_load(plan), std::invalid_argument);
  plan.duration = std::chrono::milliseconds(100);
  plan.message_size = 0;
  CHECK_THROWS_AS(lab::net::run_load(plan), std::invalid_argument);
}

TEST_CASE("run_load at a port nobody listens on gives up with connection refused") {
  lab::net::load_plan plan;
  plan.port = lab::net::listen_loopback().port;  // closed again at once
  plan.connections = 3;
  plan.duration = std::chrono::seconds(10);
  CHECK_THROWS_WITH_AS(
      lab::net::run_load(plan),
      ("connect to 127.0.0.1:" + std::to_string(plan.port) + ": Connection refused").c_str(),
      std::runtime_error);
}
