// The demo servers: every server of the lessons (echo servers blocking, on
// select, poll and epoll, with a thread or a process per client; the
// counting servers), each registered by name. Two callers run them:
//
//   - the demos (echo_demo.cpp, counting_demo.cpp), which start one in a
//     child process of its own (server_process.hpp) and point real clients
//     at it;
//   - `lab serve NAME`, through `lab-demos --serve NAME port=P ...`, which
//     runs one in the foreground for the student's own `nc`.
//
// A server serves until its stop descriptor becomes readable (the demo
// closes the other end of a pipe) or until it is killed (lab serve stops the
// box): the lecture's "stdin quits" with a pipe in the place of stdin.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <lab/net/socket.hpp>

#include "params.hpp"

namespace lab::demos {

// How a server behaves, typed once from the student's key=value words.
struct server_options {
  std::size_t chunk = 16;                // echo: bytes per recv(), as in the lecture
  std::chrono::milliseconds compute{0};  // echo: CPU time a chunk with '#' in it costs
  std::chrono::milliseconds work{50};    // counting: the simulated request
  std::chrono::seconds long_poll{25};    // chat: how long a poll waits for news
  bool chatty = false;                   // say who comes and goes (lab serve)
};

// The byte that asks an echo server for a long computation (compute_ms).
inline constexpr char compute_request = '#';

// Serves clients of `listener` until `stop_fd` is readable.
using serve_function = void (*)(net::listener& listener, int stop_fd,
                                const server_options& options);

enum class server_kind { echo, counting, chat };

struct demo_server {
  std::string name;     // "echo.select"
  std::string summary;  // one line
  server_kind kind = server_kind::echo;
  serve_function serve = nullptr;
  std::string limits = {};  // its box's limits as JSON, as a demo's
};

std::map<std::string, demo_server>& server_registry();

struct server_registration {
  explicit server_registration(demo_server s);
};

// The parameters `lab serve` takes for a server of `kind`: port, and chunk
// and compute_ms (echo), work_ms (counting) or poll_s (chat).
std::vector<param_spec> server_params(server_kind kind);

// Types the checked parameters of `kind` into options.
server_options options_from(server_kind kind, const params& p);

// --- for the servers themselves ------------------------------------------------

// Waits until a client is waiting to be accepted (true) or until `stop_fd`
// is readable (false). For the servers that block in accept(): the lessons'
// code calls accept() straight away; here a poll() first lets a demo stop it.
bool wait_for_client_or_stop(int listener_fd, int stop_fd);

// Prints one line for a person watching the server (lab serve), flushed at once.
void say(const server_options& options, const std::string& line);

// Spends `cpu` of this thread's CPU time computing: the long request that
// an event loop cannot weave with the others.
void compute_for(std::chrono::milliseconds cpu);

}  // namespace lab::demos
