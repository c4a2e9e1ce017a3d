// Echoing one client: the blocking loop (one client owns the thread while it
// is served) and the pieces an event loop calls when a client is ready.
//
// lesson: blocking, slide "In C++"; lesson: select, slide "A queue of replies per client"
#pragma once

#include <string>

#include <lab/unique_fd.hpp>

#include "server.hpp"

namespace lab::demos {

// Accepts one client of `listener_fd` for echoing (empty if none was
// waiting), with Nagle's algorithm off: the echo goes out in chunk-sized
// pieces, and with it on, every piece after the first would wait for the
// client's acknowledgement, which a client waiting for the rest of its answer
// delays by some 40 ms (a 64-byte request echoed 16 bytes at a time would
// take that long).
unique_fd accept_echo_client(int listener_fd, bool nonblocking = false);

// Whether a chunk of a client's bytes asks for the long computation
// (compute_request in it).
bool asks_for_computation(const char* data, std::size_t size);

// Echoes `fd` with blocking calls until the client hangs up or resets:
// recv() a chunk, send() it back, again. The calling thread does nothing
// else meanwhile. A chunk with compute_request in it costs options.compute
// of CPU first.
void echo_until_hangup(int fd, const server_options& options);

// One client of an event loop: its (non-blocking) socket and its queue of
// replies, the bytes read and not yet echoed.
struct echo_client {
  unique_fd fd;
  std::string outgoing;
  // The client half-closed (it will send nothing more): its queue is still
  // echoed, and then the connection is closed.
  bool input_ended = false;
};

// The most bytes a client's queue holds before the loop stops reading from
// it: a client that sends without reading its echo must not make the server
// buffer without end (it waits until the client reads again).
inline constexpr std::size_t max_queued_bytes = 256 << 10;

// Whether the loop should read from this client now (its queue has room).
inline bool wants_input(const echo_client& client) {
  return !client.input_ended && client.outgoing.size() < max_queued_bytes;
}

// Whether the loop is done with this client: it sent its last byte and got
// every echo back.
inline bool finished(const echo_client& client) {
  return client.input_ended && client.outgoing.empty();
}

// The client is readable: one recv() of options.chunk bytes onto its queue
// (after the computation, if it asked for one), or the end of its stream
// (input_ended). False: it reset the connection.
bool take_chunk(echo_client& client, const server_options& options);

// The client is writable: sends what the kernel takes of its queue. False:
// it is gone.
bool send_queued(echo_client& client);

}  // namespace lab::demos
