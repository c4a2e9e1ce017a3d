// TCP sockets on the loopback, for demos, checks and student code.
//
// lesson: blocking, slide "In C++"; lesson: select, slide "Partial reads and
// non-blocking sockets"
//
//   lab::net::listener server = lab::net::listen_loopback();   // port 0: the OS picks
//   std::printf("listening on 127.0.0.1:%d\n", server.port);
//   lab::unique_fd client = lab::net::accept_client(server.fd.get());
//   char chunk[16];
//   for (;;) {
//     const auto got = lab::net::recv_some(client.get(), chunk);
//     if (got.status != lab::net::io_status::ok) break;          // hung up or reset
//     if (!lab::net::send_all(client.get(), {chunk, got.bytes})) break;
//   }                                                             // client closes itself here
//
// Every descriptor is owned by a lab::unique_fd. Descriptors are made
// close-on-exec. Sends never raise SIGPIPE (MSG_NOSIGNAL): a client gone is
// io_status::closed, a result like any other. EINTR is retried inside each
// call, so a signal handler never turns into a failed send.
//
// Errors a caller cannot plan for throw lab::net::error (error.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <lab/unique_fd.hpp>

namespace lab::net {

// How many finished handshakes the kernel may queue for accept(): enough for
// a demo's burst of clients (the lecture's 5 would turn a burst away).
inline constexpr int default_backlog = 1024;

// A listening socket and the port it got.
struct listener {
  unique_fd fd;
  std::uint16_t port = 0;
};

// Listens on 127.0.0.1:`port` (0: a free port the OS picks; `port` says
// which). SO_REUSEADDR is set, so that a server restarted at once may bind
// the port its predecessor's closed connections still wait on. Throws
// lab::net::error: "bind 127.0.0.1:8000: Address already in use".
listener listen_loopback(std::uint16_t port = 0, int backlog = default_backlog);

// Accepts one client of `listener_fd`. With `nonblocking`, the client's
// socket is non-blocking from the start. Returns an empty unique_fd when
// there is no client to take now (a non-blocking listener: EAGAIN; or the
// client gave up between handshake and accept: ECONNABORTED). Throws
// lab::net::error for the rest, notably "accept: Too many open files".
unique_fd accept_client(int listener_fd, bool nonblocking = false);

// Connects to 127.0.0.1:`port` and waits until the connection is made.
// Throws lab::net::error: "connect to 127.0.0.1:8000: Connection refused".
unique_fd connect_loopback(std::uint16_t port);

// The local port `fd` is bound to.
std::uint16_t local_port(int fd);

// Makes a call on `fd` return io_status::would_block instead of waiting.
void set_nonblocking(int fd, bool nonblocking = true);

// Sends small writes at once instead of gathering them (Nagle's algorithm
// off): for request/response traffic such as a load generator's.
void set_no_delay(int fd);

// What a send or a receive did.
enum class io_status {
  ok,           // `bytes` (at least 1) were moved
  would_block,  // a non-blocking socket had nothing to give or no room: try when ready
  closed,       // receive: the peer finished sending (0 bytes); send: the peer is gone (EPIPE)
  reset,        // the peer reset the connection (ECONNRESET)
};

struct io_result {
  std::size_t bytes = 0;
  io_status status = io_status::ok;
};

// One send(): may move fewer bytes than given (a partial write).
io_result send_some(int fd, std::span<const char> data);

// One recv() of at most data.size() bytes: may return fewer than were sent,
// or parts of two messages (TCP is a stream of bytes, not of messages).
io_result recv_some(int fd, std::span<char> buffer);

// Sends every byte of `data`, resuming after partial writes; on a
// non-blocking socket it waits (poll) for room whenever the kernel's buffer
// is full. False if the peer closed or reset before everything went out.
bool send_all(int fd, std::string_view data);

// Receives until `buffer` is full or the peer stops sending; waits for
// data on a non-blocking socket too. Returns the bytes received: fewer than
// buffer.size() means the peer finished or reset first.
std::size_t recv_exact(int fd, std::span<char> buffer);

// Half-close: tells the peer we will send nothing more (it reads the end of
// the stream) while we can still receive its answer.
void shutdown_write(int fd);

}  // namespace lab::net
