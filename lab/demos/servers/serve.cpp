#include "serve.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <map>

#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>

#include "demo.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

constexpr int usage_error = 2;  // as lab's own

// How to talk to a server of `kind` from a terminal.
std::string how_to_try(server_kind kind, std::uint16_t port) {
  if (kind == server_kind::counting)
    return fmt::format(
        "try it: nc 127.0.0.1 {0}   (it answers <N, took X ms>; several at once:\n"
        "        for i in 1 2 3; do nc 127.0.0.1 {0} & done; wait)",
        port);
  if (kind == server_kind::chat)
    return fmt::format(
        "try it: open http://127.0.0.1:{0}/ in a browser (two windows: chat between them), or\n"
        "        curl 'http://127.0.0.1:{0}/poll?since=0'   (waits for a message), and elsewhere\n"
        "        curl -d 'hello' http://127.0.0.1:{0}/send",
        port);
  return fmt::format("try it: nc 127.0.0.1 {}   (type a line: it comes back; Ctrl-D leaves)", port);
}

}  // namespace

int serve_in_foreground(const std::string& name, const std::vector<std::string>& words) {
  const auto found = server_registry().find(name);
  if (found == server_registry().end()) {
    fmt::print(stderr, "lab-demos: no server named '{}'\n", name);
    return usage_error;
  }
  const demo_server& server = found->second;
  const auto specs = server_params(server.kind);
  std::map<std::string, std::string> values;
  for (const auto& word : words) {
    const auto equals = word.find('=');
    if (equals == std::string::npos || equals == 0) {
      fmt::print(stderr, "serve {}: \"{}\" is not key=value (parameters: {})\n", name, word,
                 params_help(specs));
      return usage_error;
    }
    values[word.substr(0, equals)] = word.substr(equals + 1);
  }
  try {
    const params p(specs, values);
    if (!p.unknown().empty()) {
      fmt::print(stderr, "serve {}: no parameter '{}' (parameters: {})\n", name,
                 p.unknown().front(), params_help(specs));
      return usage_error;
    }
    server_options options = options_from(server.kind, p);
    options.chatty = true;
    net::listener listener = net::listen_loopback(static_cast<std::uint16_t>(p.number("port")));
    fmt::print("{}: listening on 127.0.0.1:{}\n{}\n", name, listener.port,
               how_to_try(server.kind, listener.port));
    std::fflush(stdout);
    // Nobody writes to this pipe: the server runs until lab stops the box.
    const pipe_ends never = make_pipe();
    server.serve(listener, never.read.get(), options);
    return 0;
  } catch (const bad_param& error) {
    fmt::print(stderr, "serve {}: {}\n", name, error.what());
    return usage_error;
  } catch (const net::error& error) {
    fmt::print(stderr, "serve {}: {}\n", name, error.what());
    return 1;
  }
}

void list_servers_for_lab() {
  for (const auto& [name, s] : server_registry())
    channel().send(
        protocol::demo_listed{s.name, s.summary, params_help(server_params(s.kind)), s.limits});
}

void list_servers_for_people(std::ostream& out) {
  for (const auto& [name, s] : server_registry()) {
    out << fmt::format("{:<24} {}\n", s.name, s.summary);
    out << fmt::format("{:<24} {}\n", "", params_help(server_params(s.kind)));
  }
}

}  // namespace lab::demos
