// chat.comet: the comet chat (servers/comet_chat.cpp) holding many waiting
// pages at once, and a message reaching all of them.
//
// lesson: green-threads, slide "A chat server"
//
// The demo starts the chat server in a child process, opens `clients` real
// HTTP connections, each a long poll (GET /poll?since=0) that the server
// holds open: one greenlet each, all on the server's one thread. It asks
// /status until the server says every poll is waiting (progress, not a
// guess at how long that takes), then posts one message (POST /send) and
// times each poll's answer from the moment of the post. It prints how many
// got the message and the p50/p99/max of their wait, and the server's
// memory per waiting poll. The claim it checks: every poll got the message,
// from one thread.
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <sys/epoll.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <lab/net/epoll_set.hpp>
#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>
#include <lab/timing.hpp>

#include "demo.hpp"
#include "http_response.hpp"
#include "process_memory.hpp"
#include "servers/server.hpp"
#include "servers/server_process.hpp"

namespace lab::demos {
namespace {

using chat_clock = std::chrono::steady_clock;

// Threads a sanitizer adds to every process of this build (ThreadSanitizer
// runs one in the background).
#if defined(__SANITIZE_THREAD__)
constexpr long sanitizer_threads = 1;
#else
constexpr long sanitizer_threads = 0;
#endif

// One request on a connection of its own, answered to its end ("Connection:
// close"); the body, or "" if the server did not answer with 200.
std::string chat_request(std::uint16_t port, const std::string& request) {
  const unique_fd connection = net::connect_loopback(port);
  if (!net::send_all(connection.get(), request)) return "";
  http_response response;
  char buffer[4096];
  for (;;) {
    const net::io_result got = net::recv_some(connection.get(), {buffer, sizeof buffer});
    if (got.status != net::io_status::ok) break;
    response.feed({buffer, got.bytes});
    if (response.complete()) break;
  }
  if (!response.complete()) response.end_of_stream();
  return response.status() == 200 ? response.body() : "";
}

nlohmann::json chat_status(std::uint16_t port) {
  const std::string body =
      chat_request(port, "GET /status HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n");
  return nlohmann::json::parse(body, nullptr, false);
}

// One waiting page: its connection and what came back.
struct poller {
  unique_fd fd;
  http_response response;
  double waited_ms = -1;  // from the post to the whole answer; -1: none yet
  bool failed = false;
};

// Asks /status until `count` polls wait, or until the number stopped moving
// for `patience` (the server is not taking them in). Returns the last count.
long wait_until_waiting(std::uint16_t port, long count, std::chrono::milliseconds patience) {
  long waiting = -1, last = -1;
  auto moved = chat_clock::now();
  while (waiting < count) {
    const auto status = chat_status(port);
    waiting = status.is_object() ? status.value("waiting", -1L) : -1L;
    if (waiting != last) {
      last = waiting;
      moved = chat_clock::now();
    } else if (chat_clock::now() - moved > patience) {
      break;
    }
    if (waiting < count) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return waiting;
}

int run_chat(const params& p) {
  const long clients = p.number("clients");
  const std::string message = "hello, everyone";
  server_options options;
  options.long_poll = std::chrono::seconds(60);  // longer than the demo: no poll gives up
  server_process server(server_registry().at("chat"), options);
  fmt::print("chat listening on 127.0.0.1:{}: one thread, a greenlet per connection\n",
             server.port());
  const process_memory empty = memory_of(server.pid());

  fmt::print("Opening {} long polls (GET /poll?since=0, each on its own connection)...\n", clients);
  std::fflush(stdout);
  std::deque<poller> pollers;  // a deque: a poller's parser stays where it is
  net::epoll_set poller_set;
  std::string connect_error;
  for (long i = 0; i < clients; ++i) {
    poller& each = pollers.emplace_back();
    try {
      each.fd = net::connect_loopback(server.port());
      if (!net::send_all(each.fd.get(), "GET /poll?since=0 HTTP/1.1\r\nHost: lab\r\n\r\n")) {
        pollers.pop_back();
        break;
      }
      net::set_nonblocking(each.fd.get());
      poller_set.add(each.fd.get(), EPOLLIN);
    } catch (const net::error& e) {
      pollers.pop_back();
      connect_error = e.what();
      break;
    }
  }
  const long opened = static_cast<long>(pollers.size());
  const long waiting = wait_until_waiting(server.port(), opened, std::chrono::milliseconds(5000));
  const process_memory full = memory_of(server.pid());
  // The server's own thread, and under ThreadSanitizer that tool's background thread too.
  const long expected_threads = sanitizer_threads + 1;
  fmt::print("  {} connected{}{}; the server says {} polls are waiting, in {} thread{}{}.\n", opened,
             connect_error.empty() ? "" : " (connecting stopped: ", connect_error.empty() ? "" : connect_error + ")",
             waiting, full.threads, full.threads == 1 ? "" : "s",
             sanitizer_threads > 0 ? " (one of them ThreadSanitizer's own)" : "");

  // The post, and every poll's answer, timed from the moment before it.
  const auto posted = chat_clock::now();
  const bool accepted =
      !chat_request(server.port(), fmt::format("POST /send HTTP/1.1\r\nHost: lab\r\nContent-Length: "
                                               "{}\r\nConnection: close\r\n\r\n{}",
                                               message.size(), message))
           .empty();
  std::vector<poller*> by_fd(1 << 16, nullptr);
  for (auto& each : pollers) by_fd[static_cast<std::size_t>(each.fd.get())] = &each;
  long answered = 0, got_message = 0;
  auto last_answer = chat_clock::now();
  while (answered < opened && chat_clock::now() - last_answer < std::chrono::seconds(5)) {
    for (const epoll_event& event : poller_set.wait(std::chrono::milliseconds(200))) {
      poller& each = *by_fd[static_cast<std::size_t>(event.data.fd)];
      if (each.waited_ms >= 0 || each.failed) continue;
      char buffer[4096];
      const net::io_result got = net::recv_some(each.fd.get(), {buffer, sizeof buffer});
      if (got.status == net::io_status::would_block) continue;
      try {
        if (got.status == net::io_status::ok)
          each.response.feed({buffer, got.bytes});
        else
          each.response.end_of_stream();
      } catch (const std::runtime_error&) {
        each.failed = true;
      }
      if (!each.response.complete() && !each.failed) continue;
      ++answered;
      last_answer = chat_clock::now();
      poller_set.remove(each.fd.get());
      each.waited_ms = std::chrono::duration<double, std::milli>(last_answer - posted).count();
      if (!each.failed && each.response.status() == 200 &&
          each.response.body().find(message) != std::string::npos)
        ++got_message;
    }
  }
  std::vector<double> waits;
  for (const auto& each : pollers)
    if (each.waited_ms >= 0 && !each.failed) waits.push_back(each.waited_ms);
  const double p50 = percentile_of(waits, 0.5), p99 = percentile_of(waits, 0.99),
               worst = waits.empty() ? 0 : *std::max_element(waits.begin(), waits.end());
  const double kb_per_poll = waiting > 0 ? static_cast<double>(full.pss_kb - empty.pss_kb) /
                                               static_cast<double>(waiting)
                                         : 0;
  fmt::print("Posted \"{}\"{}. It reached {} of the {} waiting polls:\n"
             "  from the post to each whole answer: p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms\n",
             message, accepted ? "" : " (the server refused the post)", got_message, opened, p50,
             p99, worst);
  fmt::print("The server's memory: {} KB before, {} KB with the polls waiting (PSS): {:.1f} KB per "
             "waiting poll.\n\n",
             empty.pss_kb, full.pss_kb, kb_per_poll);
  report_metric("chat_waiting_polls", static_cast<double>(waiting), "polls");
  report_metric("chat_fanout_p99_ms", p99, "ms");
  report_metric("chat_kb_per_poll", kb_per_poll, "KB");
  if (got_message == clients && waiting == clients && full.threads == expected_threads)
    fmt::print(
        "One thread held all {} requests open and answered every one when the message came:\n"
        "a waiting page costs a greenlet's stack and a socket, not a thread.\n",
        clients);
  else
    fmt::print("This run did not deliver the message to every poll from one server thread (see "
               "above): the claim is not shown.\n");
  return 0;
}

const registration chat_registration{
    {.name = "chat.comet",
     .summary = "the comet chat holds many long polls on one thread; a message reaches them all",
     .params = {param::number("clients", 200, {1, 2000})},
     .run = run_chat,
     .limits = R"({"open_files": 8192})"}};

}  // namespace
}  // namespace lab::demos
