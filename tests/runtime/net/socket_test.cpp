// lab/net/socket.hpp on the loopback: real sockets, ports the OS picks,
// every exchange small and bounded.
#include "lab/net/socket.hpp"

#include <doctest/doctest.h>
#include <pthread.h>
#include <sys/socket.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "lab/net/error.hpp"

using lab::net::io_status;

namespace {

// A connected pair over the loopback: the client's end and the server's.
struct connection {
  lab::unique_fd client;
  lab::unique_fd server;
};

connection connect_pair() {
  const auto listener = lab::net::listen_loopback();
  connection pair;
  pair.client = lab::net::connect_loopback(listener.port);
  pair.server = lab::net::accept_client(listener.fd.get());
  REQUIRE(pair.server);
  return pair;
}

std::string pattern(std::size_t size) {
  std::string text(size, ' ');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + i * 7 % 26);
  return text;
}

// A port that was free a moment ago and has no listener now.
std::uint16_t closed_port() {
  return lab::net::listen_loopback().port;  // the listener closes at the end of this line
}

extern "C" void ignore_signal(int) {}

}  // namespace

TEST_CASE("a listener on port 0 gets a port from the OS and a client connects to it") {
  const auto listener = lab::net::listen_loopback();
  CHECK(listener.port != 0);
  CHECK(lab::net::local_port(listener.fd.get()) == listener.port);
  const auto client = lab::net::connect_loopback(listener.port);
  const auto accepted = lab::net::accept_client(listener.fd.get());
  CHECK(accepted);
  CHECK((fcntl(accepted.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((fcntl(client.get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("a second listener on a port in use is refused in the kernel's words") {
  const auto first = lab::net::listen_loopback();
  const std::string expected =
      "bind 127.0.0.1:" + std::to_string(first.port) + ": Address already in use";
  CHECK_THROWS_WITH_AS(lab::net::listen_loopback(first.port), expected.c_str(), lab::net::error);
}

TEST_CASE("a connection to a port nobody listens on is refused with the address") {
  const std::uint16_t port = closed_port();
  const std::string expected =
      "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused";
  CHECK_THROWS_WITH_AS(lab::net::connect_loopback(port), expected.c_str(), lab::net::error);
}

TEST_CASE("a non-blocking listener with no client waiting gives an empty descriptor") {
  const auto listener = lab::net::listen_loopback();
  lab::net::set_nonblocking(listener.fd.get());
  CHECK_FALSE(lab::net::accept_client(listener.fd.get()));
}

TEST_CASE("a non-blocking receive with nothing to read says would_block") {
  auto pair = connect_pair();
  lab::net::set_nonblocking(pair.client.get());
  char buffer[16];
  CHECK(lab::net::recv_some(pair.client.get(), buffer).status == io_status::would_block);
}

TEST_CASE("sends into a peer that does not read fill its buffers and then would_block") {
  auto pair = connect_pair();
  lab::net::set_nonblocking(pair.client.get());
  const std::string chunk = pattern(64 << 10);
  std::size_t sent = 0;
  io_status last = io_status::ok;
  for (int i = 0; i < 10'000 && last == io_status::ok; ++i) {
    const auto result = lab::net::send_some(pair.client.get(), chunk);
    sent += result.bytes;
    last = result.status;
  }
  CHECK(last == io_status::would_block);
  CHECK(sent > 0);
}

TEST_CASE("send_all on a non-blocking socket delivers every byte in order through partial writes") {
  auto pair = connect_pair();
  lab::net::set_nonblocking(pair.client.get());
  const std::string message = pattern(4 << 20);  // more than the socket buffers hold
  std::string received(message.size(), '\0');
  std::size_t got = 0;
  std::thread reader([&] {
    // Small reads: the writer finds the buffers full again and again.
    char chunk[4096];
    while (got < received.size()) {
      const auto result = lab::net::recv_some(pair.server.get(), chunk);
      if (result.status != io_status::ok) break;
      received.replace(got, result.bytes, chunk, result.bytes);
      got += result.bytes;
    }
  });
  const bool delivered = lab::net::send_all(pair.client.get(), message);
  reader.join();
  CHECK(delivered);
  CHECK(got == message.size());
  CHECK(received == message);
}

TEST_CASE("after a half-close the peer reads the end of the stream and can still answer") {
  auto pair = connect_pair();
  REQUIRE(lab::net::send_all(pair.client.get(), "ping"));
  lab::net::shutdown_write(pair.client.get());
  char question[8];
  CHECK(lab::net::recv_exact(pair.server.get(), question) == 4);  // "ping", then the end
  CHECK(std::string(question, 4) == "ping");
  char nothing[1];
  CHECK(lab::net::recv_some(pair.server.get(), nothing).status == io_status::closed);
  REQUIRE(lab::net::send_all(pair.server.get(), "pong"));
  pair.server.reset();
  char answer[4];
  CHECK(lab::net::recv_exact(pair.client.get(), answer) == 4);
  CHECK(std::string(answer, 4) == "pong");
}

TEST_CASE("a peer that resets the connection is reported as reset and not thrown") {
  auto pair = connect_pair();
  const linger abort_on_close{1, 0};  // close() sends RST instead of FIN
  REQUIRE(setsockopt(pair.server.get(), SOL_SOCKET, SO_LINGER, &abort_on_close,
                     sizeof abort_on_close) == 0);
  pair.server.reset();
  char buffer[16];
  CHECK(lab::net::recv_some(pair.client.get(), buffer).status == io_status::reset);
  // After the reset the connection is gone: a send is refused, never a SIGPIPE.
  const auto sent = lab::net::send_some(pair.client.get(), "x");
  CHECK((sent.status == io_status::closed || sent.status == io_status::reset));
  CHECK_FALSE(lab::net::send_all(pair.client.get(), "more"));
}

TEST_CASE("a signal that interrupts a blocking receive does not end it") {
  struct sigaction action {};
  action.sa_handler = ignore_signal;  // no SA_RESTART: recv() itself fails with EINTR
  struct sigaction previous {};
  REQUIRE(sigaction(SIGUSR1, &action, &previous) == 0);
  auto pair = connect_pair();
  std::size_t got = 0;
  char answer[5];
  std::thread receiver([&] { got = lab::net::recv_exact(pair.client.get(), answer); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block in recv()
  pthread_kill(receiver.native_handle(), SIGUSR1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(lab::net::send_all(pair.server.get(), "hello"));
  receiver.join();
  sigaction(SIGUSR1, &previous, nullptr);
  CHECK(got == 5);
  CHECK(std::string(answer, 5) == "hello");
}
