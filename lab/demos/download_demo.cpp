// download.compare: lecture "download four files", three ways, against a
// local HTTP server that takes `delay_ms` to answer each request.
//
// lesson: event-loops
//
//   one after the other   blocking calls in a loop: the sum of the delays (for scale)
//   a thread per file     blocking calls, each on its own thread
//   callbacks             one thread, an event loop, a handler per readiness event
//   coroutines            one thread, the same loop, code shaped like the blocking one
//
// The server is cpp-httplib's (Debian's libcpp-httplib-dev), as is the
// blocking client; the loop's clients parse with http-parser
// (http_response.hpp). All on 127.0.0.1, on a port the OS picks.
#include <fmt/core.h>
#include <httplib.h>
#include <lab/event_loop.hpp>
#include <lab/net/socket.hpp>
#include <lab/unique_fd.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "machine_load.hpp"
#include "http_response.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

std::string path_of(int file) { return fmt::format("/file/{}", file); }

// What file `file` holds: a first line naming it, then `size` letters.
std::string contents_of(int file, long size) {
  return fmt::format("file {}\n", file) +
         std::string(static_cast<std::size_t>(size), static_cast<char>('a' + file % 26));
}

// The slow server: each request waits `delay` before its answer, as a far
// away web site would. Threads of its own, so that it answers requests at
// the same time, as a real site does.
class slow_server {
 public:
  slow_server(int files, std::chrono::milliseconds delay, long size) {
    server_.new_task_queue = [files] { return new httplib::ThreadPool(static_cast<std::size_t>(files) + 1); };
    server_.Get(R"(/file/(\d+))", [delay, size](const httplib::Request& request, httplib::Response& response) {
      std::this_thread::sleep_for(delay);
      response.set_content(contents_of(std::stoi(request.matches[1]), size), "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("the demo's web server could not listen on 127.0.0.1");
    // bind_to_any_port has listened already: connections queue until the
    // accept loop below takes them.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~slow_server() {
    server_.stop();
    thread_.join();
  }
  slow_server(const slow_server&) = delete;
  slow_server& operator=(const slow_server&) = delete;
  std::uint16_t port() const { return static_cast<std::uint16_t>(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

std::string request_for(int file) {
  return fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path_of(file));
}

// ---- 1 and 2: blocking calls -------------------------------------------

std::string blocking_get(std::uint16_t port, int file) {
  httplib::Client client("127.0.0.1", port);
  const auto result = client.Get(path_of(file));
  if (!result) throw std::runtime_error("GET " + path_of(file) + ": " + httplib::to_string(result.error()));
  return result->body;
}

std::vector<std::string> one_after_the_other(std::uint16_t port, int files) {
  std::vector<std::string> bodies;
  for (int file = 0; file < files; ++file) bodies.push_back(blocking_get(port, file));
  return bodies;
}

std::vector<std::string> thread_per_file(std::uint16_t port, int files) {
  std::vector<std::string> bodies(static_cast<std::size_t>(files));
  std::vector<std::thread> threads;
  for (int file = 0; file < files; ++file)
    threads.emplace_back([&bodies, port, file] {  // each writes only its own slot
      bodies[static_cast<std::size_t>(file)] = blocking_get(port, file);
    });
  for (auto& thread : threads) thread.join();  // join() also publishes what they wrote
  return bodies;
}

// ---- 3: callbacks on the event loop --------------------------------------

// One download as an object whose methods the loop calls: the story
// "connect, send the request, read until the end" cut into handlers.
class callback_download {
 public:
  callback_download(event_loop& loop, std::uint16_t port, int file, std::string& body)
      : loop_(loop), request_(request_for(file)), body_(body) {
    fd_ = net::connect_loopback(port);
    net::set_nonblocking(fd_.get());
    loop_.on_writable(fd_.get(), [this] { can_write(); });
  }

 private:
  void can_write() {
    const auto sent = net::send_some(fd_.get(), {request_.data() + sent_, request_.size() - sent_});
    if (sent.status == net::io_status::ok) sent_ += sent.bytes;
    if (sent_ < request_.size())
      loop_.on_writable(fd_.get(), [this] { can_write(); });  // the rest, when there is room
    else
      loop_.on_readable(fd_.get(), [this] { can_read(); });
  }
  void can_read() {
    std::array<char, 16384> chunk;
    const auto got = net::recv_some(fd_.get(), chunk);
    if (got.status == net::io_status::ok) response_.feed({chunk.data(), got.bytes});
    if (got.status == net::io_status::closed) response_.end_of_stream();
    if (got.status == net::io_status::reset) throw std::runtime_error("the server reset a download");
    if (response_.complete())
      body_ = response_.body();  // done: no more handlers, the loop forgets us
    else
      loop_.on_readable(fd_.get(), [this] { can_read(); });
  }

  event_loop& loop_;
  unique_fd fd_;
  std::string request_;
  std::size_t sent_ = 0;
  http_response response_;
  std::string& body_;
};

std::vector<std::string> callbacks_on_a_loop(std::uint16_t port, int files) {
  std::vector<std::string> bodies(static_cast<std::size_t>(files));
  event_loop loop;
  std::vector<std::unique_ptr<callback_download>> downloads;
  for (int file = 0; file < files; ++file)
    downloads.push_back(std::make_unique<callback_download>(loop, port, file, bodies[static_cast<std::size_t>(file)]));
  loop.run();  // returns when no handler is left waiting
  return bodies;
}

// ---- 4: coroutines on the event loop --------------------------------------

// The blocking story again, with a co_await at each wait.
task<std::string> fetch(std::uint16_t port, int file) {
  const unique_fd fd = net::connect_loopback(port);
  net::set_nonblocking(fd.get());
  const std::string request = request_for(file);
  for (std::size_t sent = 0; sent < request.size();) {
    co_await writable(fd.get());
    const auto step = net::send_some(fd.get(), {request.data() + sent, request.size() - sent});
    if (step.status == net::io_status::ok) sent += step.bytes;
  }
  http_response response;
  std::array<char, 16384> chunk;
  while (!response.complete()) {
    co_await readable(fd.get());
    const auto got = net::recv_some(fd.get(), chunk);
    if (got.status == net::io_status::ok) response.feed({chunk.data(), got.bytes});
    if (got.status == net::io_status::closed) response.end_of_stream();
    if (got.status == net::io_status::reset) throw std::runtime_error("the server reset a download");
  }
  co_return response.body();
}

task<std::vector<std::string>> fetch_all(std::uint16_t port, int files) {
  event_loop& loop = event_loop::current();
  std::vector<join_handle<std::string>> downloads;
  for (int file = 0; file < files; ++file) downloads.push_back(loop.spawn(fetch(port, file), path_of(file)));
  std::vector<std::string> bodies;
  for (auto& download : downloads) bodies.push_back(co_await download);
  co_return bodies;
}

std::vector<std::string> coroutines_on_a_loop(std::uint16_t port, int files) {
  event_loop loop;
  return loop.run_until_complete(fetch_all(port, files));
}

// ---- the demo ------------------------------------------------------------

int compare_downloads(const params& p) {
  const int files = static_cast<int>(p.number("files"));
  const auto delay = std::chrono::milliseconds(p.number("delay_ms"));
  const long size = p.number("size");
  const load_watch watch;  // what else ran on the machine meanwhile
  slow_server server(files, delay, size);
  fmt::print("{} files of {} bytes from a local web server (127.0.0.1:{}) that takes {} ms to\n"
             "answer each request:\n\n",
             files, size, server.port(), delay.count());

  struct way {
    const char* name;
    std::function<std::vector<std::string>(std::uint16_t, int)> run;
  };
  const std::vector<way> ways = {{"one after the other (blocking)", one_after_the_other},
                                 {"a thread per file (blocking)", thread_per_file},
                                 {"callbacks on one event loop", callbacks_on_a_loop},
                                 {"coroutines on one event loop", coroutines_on_a_loop}};
  fmt::print("  {:<32} {:>8}  {:>11}  {}\n", "way", "time", "× one delay", "files right");
  bool all_right = true;
  double slowest_overlapped = 0;
  for (const auto& w : ways) {
    const auto start = clock_type::now();
    const auto bodies = w.run(server.port(), files);
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    int right = 0;
    for (int file = 0; file < files; ++file)
      right += bodies.at(static_cast<std::size_t>(file)) == contents_of(file, size) ? 1 : 0;
    all_right = all_right && right == files;
    const double delays = seconds / std::chrono::duration<double>(delay).count();
    if (&w != &ways.front()) slowest_overlapped = std::max(slowest_overlapped, delays);
    fmt::print("  {:<32} {:>6.2f} s  {:>11.1f}  {} of {}\n", w.name, seconds, delays, right, files);
  }
  fmt::print("\n");
  if (!all_right) {
    fmt::print("Some downloads came back wrong: this is a bug in the lab.\n");
    return 1;
  }
  // The claim: waiting overlaps, so each concurrent way takes about one
  // delay. Checked on the figures: "well under the sum" is under half of it.
  if (files > 1 && slowest_overlapped > files / 2.0) {
    const load_figures machine = watch.figures();
    fmt::print("On this run the downloads did not overlap as they should: the slowest of the three\n"
               "concurrent ways took {:.1f} delays for {} files (load average {:.2f}; other programs\n"
               "kept {:.1f} of {} cores busy). Run it again on a quieter machine.\n",
               slowest_overlapped, files, machine.load_average, machine.others_busy, machine.usable_cores);
  } else {
    fmt::print("Each concurrent way took about one delay, not {}: the time goes to waiting, and\n"
               "all three wait for the {} answers at once. Threads do it with {} threads; the\n"
               "event loop with one, either as callbacks (the story cut into handlers) or as\n"
               "coroutines (the story kept whole, with a co_await at each wait).\n",
               files, files, files);
  }
  return 0;
}

const registration download_compare_demo{
    {.name = "download.compare",
     .summary = "four slow downloads: one after the other, on threads, with callbacks, with coroutines",
     .params = {param::number("files", 4, {1, 16}), param::number("delay_ms", 300, {10, 5000}),
                param::number("size", 20000, {0, 10'000'000})},
     .run = compare_downloads}};

}  // namespace
}  // namespace lab::demos
