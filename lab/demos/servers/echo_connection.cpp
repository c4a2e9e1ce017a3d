#include "echo_connection.hpp"

#include <string_view>
#include <vector>

#include <lab/net/socket.hpp>

namespace lab::demos {

bool asks_for_computation(const char* data, std::size_t size) {
  return std::string_view(data, size).find(compute_request) != std::string_view::npos;
}

unique_fd accept_echo_client(int listener_fd, bool nonblocking) {
  unique_fd client = net::accept_client(listener_fd, nonblocking);
  if (client) net::set_no_delay(client.get());
  return client;
}

void echo_until_hangup(int fd, const server_options& options) {
  std::vector<char> chunk(options.chunk);
  for (;;) {
    const net::io_result got = net::recv_some(fd, chunk);  // waits for bytes
    if (got.status != net::io_status::ok) return;          // hung up (or reset)
    if (asks_for_computation(chunk.data(), got.bytes)) compute_for(options.compute);
    if (!net::send_all(fd, {chunk.data(), got.bytes})) return;  // waits for room
  }
}

bool take_chunk(echo_client& client, const server_options& options) {
  // One buffer per thread, kept: allocating (and zeroing) it per recv() would
  // cost more than the recv() itself.
  thread_local std::vector<char> chunk;
  chunk.resize(options.chunk);
  const net::io_result got = net::recv_some(client.fd.get(), chunk);
  if (got.status == net::io_status::would_block) return true;  // was ready, is not now
  if (got.status == net::io_status::closed) {
    client.input_ended = true;  // a half-close: what is queued still goes back
    return true;
  }
  if (got.status != net::io_status::ok) return false;
  // One thread for everybody: while this computes, no other client is served.
  if (asks_for_computation(chunk.data(), got.bytes)) compute_for(options.compute);
  client.outgoing.append(chunk.data(), got.bytes);
  return true;
}

bool send_queued(echo_client& client) {
  const net::io_result sent = net::send_some(client.fd.get(), client.outgoing);
  if (sent.status == net::io_status::would_block) return true;
  if (sent.status != net::io_status::ok) return false;
  client.outgoing.erase(0, sent.bytes);  // a partial send leaves the rest queued
  return true;
}

}  // namespace lab::demos
