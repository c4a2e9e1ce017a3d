// A few HTTP requests to the comet chat (`lab serve chat`) from a test, on
// plain loopback sockets: each on a connection of its own, read to the end.
// Shared by the chat's HTTP tests and its page test.
#pragma once

#include <poll.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include <lab/net/socket.hpp>

namespace lab_test {

// Sends `request` and reads until the server closes the connection (or
// `patience` passes without a byte): the whole response.
inline std::string chat_exchange(std::uint16_t port, const std::string& request,
                                 std::chrono::milliseconds patience = std::chrono::seconds(10)) {
  const auto connection = lab::net::connect_loopback(port);
  REQUIRE(lab::net::send_all(connection.get(), request));
  std::string response;
  char buffer[4096];
  for (;;) {
    pollfd entry{connection.get(), POLLIN, 0};
    if (poll(&entry, 1, static_cast<int>(patience.count())) != 1) break;
    const auto got = lab::net::recv_some(connection.get(), {buffer, sizeof buffer});
    if (got.status != lab::net::io_status::ok) break;
    response.append(buffer, got.bytes);
  }
  return response;
}

inline std::string chat_get(std::uint16_t port, const std::string& target) {
  return chat_exchange(port,
                       "GET " + target + " HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n");
}

inline std::string chat_post(std::uint16_t port, const std::string& target,
                             const std::string& body) {
  return chat_exchange(port, "POST " + target + " HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n" +
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                                 body);
}

// The body of a whole response ("" if it has none).
inline std::string chat_body(const std::string& response) {
  const auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

// How many polls the server says are waiting (-1 if it did not say).
inline long chat_waiting(std::uint16_t port) {
  const auto status = nlohmann::json::parse(chat_body(chat_get(port, "/status")), nullptr, false);
  return status.is_object() ? status.value("waiting", -1L) : -1L;
}

// Asks /status until at least `count` polls wait, for at most `patience`.
inline bool chat_until_waiting(std::uint16_t port, long count,
                               std::chrono::seconds patience = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < until) {
    if (chat_waiting(port) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace lab_test
