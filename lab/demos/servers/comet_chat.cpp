// chat: the web lecture's comet chat on green threads. A small web page
// (chat_page.html) asks GET /poll?since=N; the server holds that request
// open until a message newer than N exists, then answers with every message
// from N on, and the page asks again. POST /send posts a message; GET
// /status says how many polls are waiting. One greenlet per connection, all
// on one OS thread: a waiting page costs a small stack, not a thread.
//
// lesson: green-threads, slide "A chat server"
//
// The code of each connection is plain blocking code (recv, then parse,
// then send), made cooperative by the patch library as in echo.green. The
// HTTP parsing is the http-parser library's (http_request.hpp).
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <lab/green.hpp>
#include <lab/green_patch.hpp>
#include <lab/net/socket.hpp>

#include "../http_request.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

// The room: the messages posted (each numbered, from 0), and an event that
// wakes every waiting poll when one arrives. Only greenlets of the one
// server thread touch it, and a greenlet is never preempted, so it needs no
// lock: between two waits, nothing else runs.
class chat_room {
 public:
  // The number the next message will get.
  std::size_t next() const { return first_ + messages_.size(); }
  std::size_t waiting() const { return waiting_; }

  // Posts `text`; returns its number. Every waiting poll wakes.
  std::size_t post(std::string text) {
    messages_.push_back(std::move(text));
    if (messages_.size() > kept) {  // a long-running server keeps the newest only
      messages_.pop_front();
      ++first_;
    }
    news_.set();
    return next() - 1;
  }

  struct news {
    std::vector<std::string> messages;
    std::size_t next = 0;  // what the page asks for next time
  };

  // The messages numbered `since` and after, waiting up to `limit` for the
  // first one; none when the limit passed first (the page just asks again).
  news wait_newer(std::size_t since, green::duration limit) {
    if (since > next()) since = next();  // a page from before a restart: from now on
    ++waiting_;
    struct leaving {
      std::size_t& waiting;
      ~leaving() { --waiting; }
    } count_while_here{waiting_};
    try {
      green::timeout patience(limit, "a long poll");
      while (next() <= since) {
        news_.clear();
        news_.wait();  // a switch: every other greenlet runs meanwhile
      }
    } catch (const green::timed_out&) {
    }
    news n;
    for (std::size_t id = std::max(since, first_); id < next(); ++id)
      n.messages.push_back(messages_[id - first_]);
    n.next = next();
    return n;
  }

 private:
  static constexpr std::size_t kept = 1000;
  std::deque<std::string> messages_;
  std::size_t first_ = 0;  // the number of messages_.front()
  std::size_t waiting_ = 0;
  green::event news_;
};

std::string reply(int status, std::string_view reason, std::string_view type,
                  const std::string& body, bool keep_alive) {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "Connection: {}\r\n\r\n{}",
      status, reason, type, body.size(), keep_alive ? "keep-alive" : "close", body);
}

std::string json_reply(const nlohmann::json& body, bool keep_alive) {
  return reply(200, "OK", "application/json", body.dump(), keep_alive);
}

std::string error_reply(int status, std::string_view reason, const std::string& why) {
  return reply(status, reason, "text/plain; charset=utf-8", why + "\n", false);
}

struct chat_server {
  chat_room room;
  std::string page;
  green::duration long_poll;
  const server_options* options = nullptr;
};

// The answer to one request (waiting first, for a poll).
std::string answer(const http_request& r, chat_server& server) {
  if (r.method == "GET" && (r.path == "/" || r.path == "/index.html"))
    return reply(200, "OK", "text/html; charset=utf-8", server.page, r.keep_alive);
  if (r.method == "GET" && r.path == "/poll") {
    const std::string since_text = query_value(r.query, "since");
    std::size_t since = 0;
    const auto [end, error] =
        std::from_chars(since_text.data(), since_text.data() + since_text.size(), since);
    if (since_text.empty() || error != std::errc{} || end != since_text.data() + since_text.size())
      return error_reply(400, "Bad Request", "/poll needs ?since=N, N the number of the first message wanted (0: all)");
    const auto n = server.room.wait_newer(since, server.long_poll);
    return json_reply({{"next", n.next}, {"messages", n.messages}}, r.keep_alive);
  }
  if (r.method == "POST" && r.path == "/send") {
    if (r.body.empty()) return error_reply(400, "Bad Request", "/send needs the message as the request's body");
    const std::size_t id = server.room.post(r.body);
    say(*server.options, fmt::format("message {} posted; it goes out to the polls waiting now", id));
    return json_reply({{"id", id}}, r.keep_alive);
  }
  if (r.method == "GET" && r.path == "/status")
    return json_reply({{"waiting", server.room.waiting()}, {"messages", server.room.next()}},
                      r.keep_alive);
  return error_reply(404, "Not Found", "the chat has /, /poll?since=N, /send (POST) and /status");
}

// One connection: requests one after the other, with plain blocking calls
// (made green by the patch library) until the client leaves.
void serve_connection(int fd, chat_server& server) {
  http_request_reader reader(4096);
  std::array<char, 4096> buffer{};
  for (;;) {
    std::optional<http_request> request;
    try {
      request = reader.next();
      if (!request) {
        const net::io_result got = net::recv_some(fd, buffer);  // a green wait
        if (got.status != net::io_status::ok) return;            // the client left
        reader.feed({buffer.data(), got.bytes});
        continue;
      }
    } catch (const bad_request& e) {
      net::send_all(fd, error_reply(400, "Bad Request", e.what()));
      return;
    }
    if (!net::send_all(fd, answer(*request, server))) return;
    if (!request->keep_alive) return;
  }
}

std::string read_page() {
  const std::filesystem::path file =
      std::filesystem::path(LAB_DEMOS_SOURCE_DIR) / "servers" / "chat_page.html";
  std::ifstream in(file);
  if (!in) throw std::runtime_error("the chat's page is missing: " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void serve_chat(net::listener& listener, int stop_fd, const server_options& options) {
  chat_server server;
  server.page = read_page();
  server.long_poll = options.long_poll;
  server.options = &options;
  green::patch_all();  // this process serves, and nothing else: patch it all, as gevent does
  green::spawn_named("acceptor", [&listener, stop_fd, &server] {
    std::vector<green::greenlet<void>> clients;  // to stop them when the server stops
    while (wait_for_client_or_stop(listener.fd.get(), stop_fd)) {  // a green poll()
      std::erase_if(clients, [](const green::greenlet<void>& g) { return g.done(); });
      auto client = std::make_shared<unique_fd>(net::accept_client(listener.fd.get()));
      if (!*client) continue;
      net::set_no_delay(client->get());
      clients.push_back(green::spawn_named("connection", [client, &server] {
        serve_connection(client->get(), server);
      }));
    }
    for (const auto& g : clients) g.kill();  // each ends at its wait, closing its socket
  });
  green::run();
  green::unpatch_all();
}

const server_registration chat_server_registration{
    {.name = "chat",
     .summary = "the comet chat: a web page and long polls, a green thread per waiting page",
     .kind = server_kind::chat,
     .serve = serve_chat,
     .limits = R"({"open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
