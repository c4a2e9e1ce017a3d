#include "echo_clients.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <thread>

#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>

#include "stall_watch.hpp"

namespace echo_check {
namespace {

namespace net = lab::net;

// Bytes of a wrong echo to look for further on in the message: random
// printable bytes, so 32 of them are found only where they were sent.
constexpr std::size_t wrong_probe_bytes = 32;

// How long one poll() waits before the loop looks at the server's figures.
constexpr int poll_slice_ms = 10;

// The bytes a client may send before its plan says it stops.
std::size_t send_limit(const client& c) {
  return c.plan.ends == client_plan::ending::reset || c.plan.ends == client_plan::ending::close
             ? std::min(c.plan.stop_after, c.plan.message.size())
             : c.plan.message.size();
}

// Whether `c` reads in this round of the loop, in which poll() said
// `ready` for it: a bulk sender reads only when there was no room to send.
bool may_read(const client& c, short ready) {
  switch (c.plan.reads) {
    case client_plan::reading::eager:
      return true;
    case client_plan::reading::when_blocked:
      return (ready & POLLOUT) == 0 || c.sent == send_limit(c);
    case client_plan::reading::never:
      return false;
  }
  return true;
}

// Where the echo that arrived at `at` went wrong, in words: bytes missing
// (the received ones appear further on in the message), or bytes changed.
std::string what_went_wrong(const std::string& message, std::size_t at, std::string_view got) {
  const std::size_t found = message.find(got, at + 1);
  if (got.size() >= 8 && found != std::string::npos)
    return "bytes " + std::to_string(at) + " to " + std::to_string(found - 1) +
           " of its message never came back (" + std::to_string(found - at) +
           " bytes dropped; the echo went on with byte " + std::to_string(found) +
           "): a send() may take fewer bytes than it was given, and the rest must still be sent";
  return "byte " + std::to_string(at) + " of its echo was '" + std::string(1, got[0]) +
         "' where it sent '" + std::string(1, message[at]) + "'";
}

}  // namespace

client_plan random_client(std::mt19937_64& random, std::size_t size, std::size_t longest_piece) {
  client_plan plan;
  std::uniform_int_distribution<int> printable(33, 126);
  plan.message.resize(size);
  for (char& c : plan.message) c = static_cast<char>(printable(random));
  std::size_t left = size;
  while (left > 0) {
    // A third of the pieces are 1 to 3 bytes: a message cut anywhere.
    const std::size_t most = std::bernoulli_distribution(0.3)(random) ? 3 : longest_piece;
    const std::size_t piece =
        std::uniform_int_distribution<std::size_t>(1, std::min(left, most))(random);
    plan.pieces.push_back(piece);
    left -= piece;
  }
  return plan;
}

std::size_t echo_clients::add(client_plan plan) {
  client c;
  c.plan = std::move(plan);
  try {
    c.fd = net::connect_loopback(server_.port());
    net::set_nonblocking(c.fd.get());
    net::set_no_delay(c.fd.get());  // each piece goes out as it is sent
    if (c.plan.receive_buffer > 0)
      ::setsockopt(c.fd.get(), SOL_SOCKET, SO_RCVBUF, &c.plan.receive_buffer,
                   sizeof c.plan.receive_buffer);
  } catch (const net::error& error) {
    // The server is gone (drive() says how) or refuses: this client is over.
    c.done = c.cut_off = true;
    c.wrong_text = std::string("could not connect: ") + error.what();
  }
  clients_.push_back(std::move(c));
  return clients_.size() - 1;
}

void echo_clients::finish(client& c) {
  if (c.plan.ends == client_plan::ending::reset) {
    const linger abort_on_close{1, 0};  // close() sends RST, not FIN
    ::setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  }
  c.fd.reset();
  c.done = true;
}

void echo_clients::send_some(client& c) {
  const std::size_t limit = send_limit(c);
  if (c.sent < limit) {
    // The end of the piece under way: pieces are consumed in order.
    std::size_t piece_end = 0;
    std::size_t i = 0;
    for (; i < c.plan.pieces.size() && piece_end <= c.sent; ++i) piece_end += c.plan.pieces[i];
    if (piece_end <= c.sent) piece_end = c.plan.message.size();
    const std::size_t length = std::min(piece_end, limit) - c.sent;
    const net::io_result result =
        net::send_some(c.fd.get(), std::string_view(c.plan.message).substr(c.sent, length));
    if (result.status == net::io_status::would_block) {
      c.send_blocked = true;
      return;
    }
    if (result.status != net::io_status::ok) {
      c.cut_off = true;
      c.wrong_text = "the server closed the connection while the client was still sending";
      c.fd.reset();
      c.done = true;
      return;
    }
    // A partial send means the buffer is full too; poll() reports POLLOUT
    // again only once a third of it is free, so this counts as blocked.
    c.send_blocked = result.bytes < length;
    c.sent += result.bytes;
    moved_ += result.bytes;
  }
  const bool ends_midway =
      c.plan.ends == client_plan::ending::reset || c.plan.ends == client_plan::ending::close;
  if (c.sent == limit && ends_midway) finish(c);
}

void echo_clients::receive(client& c) {
  char buffer[64 << 10];
  const net::io_result result = net::recv_some(c.fd.get(), buffer);
  if (result.status == net::io_status::would_block) return;
  if (result.status != net::io_status::ok) {
    c.cut_off = !c.echo_complete;
    if (c.cut_off && !c.wrong_at)
      c.wrong_text = "the server closed its connection after echoing " + std::to_string(c.echoed) +
                     " of the " + std::to_string(c.sent) + " bytes it had sent";
    c.fd.reset();
    c.done = true;
    return;
  }
  const std::string_view got(buffer, result.bytes);
  moved_ += result.bytes;
  if (!c.wrong_at) {
    if (c.echoed + got.size() > c.sent) {
      c.wrong_at = c.echoed;
      c.wrong_text = "the server sent back " + std::to_string(c.echoed + got.size()) +
                     " bytes when it had been sent only " + std::to_string(c.sent);
    } else {
      const auto [mine, theirs] = std::mismatch(
          got.begin(), got.end(), c.plan.message.begin() + static_cast<long>(c.echoed));
      if (mine != got.end()) c.wrong_at = c.echoed + static_cast<std::size_t>(mine - got.begin());
    }
  }
  if (c.wrong_at && c.wrong_text.empty() && c.after_wrong.size() < wrong_probe_bytes) {
    const std::size_t from = *c.wrong_at > c.echoed ? *c.wrong_at - c.echoed : 0;
    c.after_wrong += got.substr(from, wrong_probe_bytes - c.after_wrong.size());
  }
  c.echoed += got.size();
  if (!c.echo_complete && c.echoed == c.plan.message.size()) {
    c.echo_complete = true;
    c.finished_order = completions_++;
    if (c.plan.ends == client_plan::ending::after_echo) finish(c);
  }
}

bool echo_clients::all_done() const {
  return std::all_of(clients_.begin(), clients_.end(), [](const client& c) { return c.done; });
}

std::string echo_clients::stuck_words(const stall_watch& watch) const {
  std::size_t waiting = 0;
  const client* first = nullptr;
  std::size_t first_index = 0;
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    const client& c = clients_[i];
    if (c.done || c.echoed == c.plan.message.size()) continue;
    if (first == nullptr) {
      first = &c;
      first_index = i;
    }
    ++waiting;
  }
  if (first == nullptr) return watch.stuck_words();
  const std::string who =
      "client " + std::to_string(first_index + 1) + " of " + std::to_string(clients_.size());
  // Everything sent, part of it never echoed, and a server that sleeps in
  // its event loop's wait rather than in a recv(): it has nothing left to
  // send, so the rest is lost.
  const std::string call = blocking_call(server_.pid());
  const bool in_recv = call == "recv" || call == "read" || call == "recvmsg";
  if (first->sent == first->plan.message.size() && !watch.burning() && !in_recv)
    return std::to_string(first->sent - first->echoed) + " bytes never came back: " + who +
           " had sent all its " + std::to_string(first->sent) + " bytes and got " +
           std::to_string(first->echoed) + " back, while the server sat blocked" +
           (call.empty() ? "" : " in " + call) + " for " + in_seconds(watch.stalled()) +
           " as if it had nothing left to send. Were they dropped (a short send whose rest was "
           "not kept for later?), or kept without asking to be told when the socket is writable?";
  return watch.stuck_words() + "; " + std::to_string(waiting) +
         (waiting == 1 ? " client" : " clients") + " still waited for an echo (" + who +
         " had sent " + std::to_string(first->sent) + " of its " +
         std::to_string(first->plan.message.size()) + " bytes and got " +
         std::to_string(first->echoed) + " back)";
}

bool echo_clients::all_echoed() const {
  return std::all_of(clients_.begin(), clients_.end(),
                     [](const client& c) { return c.done || c.echo_complete; });
}

std::string echo_clients::first_wrong(bool settled) const {
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    const client& c = clients_[i];
    const bool wrong_byte = c.wrong_at && c.wrong_text.empty() &&
                            (!settled || c.done || c.after_wrong.size() >= wrong_probe_bytes);
    const bool cut = !c.wrong_text.empty() &&
                     (c.wrong_at || (c.cut_off && c.plan.ends == client_plan::ending::after_echo));
    if (!wrong_byte && !cut) continue;
    return "client " + std::to_string(i + 1) + " of " + std::to_string(clients_.size()) +
           " (a message of " + std::to_string(c.plan.message.size()) + " bytes): " +
           (wrong_byte ? what_went_wrong(c.plan.message, *c.wrong_at, c.after_wrong)
                       : c.wrong_text);
  }
  return "";
}

void echo_clients::close_all() {
  for (client& c : clients_)
    if (!c.done) {
      c.fd.reset();
      c.done = true;
    }
}

drive_result echo_clients::drive(const std::function<bool()>& until) {
  stall_watch watch(server_.pid());
  std::uint64_t last = moved_;
  std::vector<pollfd> fds;
  std::vector<std::size_t> owner;
  for (;;) {
    if (const auto end = server_.ended())
      return {drive_result::kind::server_ended, describe(*end), end};
    if (!first_wrong().empty()) {
      // A server that dies closes its sockets a moment before it can be
      // waited for: prefer its death (the cause) to the cut-off clients.
      for (int look = 0; look < 200 && read_figures(server_.pid()).state != 'S'; ++look) {
        if (const auto end = server_.ended())
          return {drive_result::kind::server_ended, describe(*end), end};
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (const auto end = server_.ended())
        return {drive_result::kind::server_ended, describe(*end), end};
      return {};
    }
    if (until ? until() : all_done()) return {};
    fds.clear();
    owner.clear();
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      const client& c = clients_[i];
      if (c.done) continue;
      short events = 0;
      if (c.sent < send_limit(c)) events |= POLLOUT;
      if (c.plan.reads != client_plan::reading::never) events |= POLLIN;
      fds.push_back({c.fd.get(), events, 0});
      owner.push_back(i);
    }
    ::poll(fds.data(), fds.size(), poll_slice_ms);
    // In index order: when two clients are ready in the same round, the
    // earlier one's bytes count first (the big client is added first).
    for (std::size_t k = 0; k < fds.size(); ++k) {
      client& c = clients_[owner[k]];
      const short ready = fds[k].revents;
      // Waiting for room (POLLOUT comes back only when a third of the send
      // buffer is free): the server is not taking this client's bytes now.
      if ((fds[k].events & POLLOUT) != 0 && (ready & POLLOUT) == 0) c.send_blocked = true;
      if (ready == 0 || c.done) continue;
      if ((ready & (POLLIN | POLLHUP | POLLERR)) != 0 && may_read(c, ready)) receive(c);
      if (!c.done && (ready & (POLLOUT | POLLERR)) != 0) send_some(c);
      if (!c.done && (ready & (POLLHUP | POLLERR)) != 0 &&
          c.plan.reads == client_plan::reading::never) {
        c.cut_off = !c.echo_complete;  // a client that never reads, closed by the server
        if (!c.wrong_at) c.wrong_text = "the server closed its connection";
        c.fd.reset();
        c.done = true;
      }
    }
    if (moved_ != last) {
      last = moved_;
      watch.progressed();
      continue;
    }
    switch (watch.look()) {
      case stall_watch::verdict::keep_waiting:
        break;
      case stall_watch::verdict::stuck:
        return {drive_result::kind::stuck, stuck_words(watch), std::nullopt};
      case stall_watch::verdict::too_busy:
        return {drive_result::kind::too_busy,
                "the machine gave the server almost no CPU for " + in_seconds(watch.stalled()),
                std::nullopt};
    }
  }
}

}  // namespace echo_check
