#include "chat_clients.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <utility>

#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>

#include "server_figures.hpp"

namespace chat_check {
namespace net = lab::net;

namespace {

// The receive buffer of a client that never reads: small, so that the lines
// it does not read pile up in the server soon.
constexpr int slow_receive_buffer = 4 << 10;

std::string client_name(int i) {
  return "client " + std::to_string(i);
}

// `text` cut to a length a message can show.
std::string shown(const std::string& text) {
  return text.size() <= 60 ? text : text.substr(0, 60) + "...";
}

drive_result ended_as(drive_result::kind how, std::string why) {
  drive_result result;
  result.how = how;
  result.why = std::move(why);
  return result;
}

}  // namespace

std::string line_text(int sender, int number, std::size_t length) {
  std::string text =
      std::to_string(sender) + " " + std::to_string(number) + " " + std::to_string(length) + " ";
  for (std::size_t i = text.size(); i < length; ++i)
    text += static_cast<char>(
        'a' + (static_cast<std::size_t>(sender) * 7 + static_cast<std::size_t>(number) + i) % 26);
  return text;
}

int chat_clients::connect(bool reads) {
  chat_client c;
  c.reads = reads;
  try {
    c.fd = net::connect_loopback(server_.port());
    net::set_nonblocking(c.fd.get());
    net::set_no_delay(c.fd.get());
    if (!reads)
      ::setsockopt(c.fd.get(), SOL_SOCKET, SO_RCVBUF, &slow_receive_buffer,
                   sizeof slow_receive_buffer);
  } catch (const net::error& error) {
    // The server is gone (drive() says how) or refuses: this client is over.
    c.ended = true;
  }
  clients_.push_back(std::move(c));
  return size() - 1;
}

void chat_clients::hello(int who) {
  (*this)[who].out += std::to_string(who) + " hello\n";
}

void chat_clients::say(int who, int number, std::size_t length) {
  (*this)[who].out += line_text(who, number, std::max<std::size_t>(length, 16)) + "\n";
}

void chat_clients::vanish(int who) {
  chat_client& c = (*this)[who];
  const std::string piece = line_text(who, 0, 64).substr(0, 40);  // no '\n': half a line
  ::send(c.fd.get(), piece.data(), piece.size(), MSG_NOSIGNAL);
  const linger abort_on_close{1, 0};  // close() sends RST, not FIN
  ::setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  c.fd.reset();
  c.gone = true;
}

void chat_clients::close(int who) {
  (*this)[who].fd.reset();
  (*this)[who].gone = true;
}

void chat_clients::close_all() {
  for (int i = 0; i < size(); ++i) close(i);
}

void chat_clients::send_some(chat_client& c) {
  while (c.sent < c.out.size()) {
    const ssize_t sent =
        ::send(c.fd.get(), c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (sent > 0) {
      c.sent += static_cast<std::size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    c.ended = true;  // the server dropped it
    return;
  }
}

void chat_clients::receive(int index) {
  char buffer[64 << 10];
  for (;;) {
    chat_client& c = (*this)[index];
    const ssize_t got = ::recv(c.fd.get(), buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (got <= 0) {  // the server closed or reset the connection
      c.ended = true;
      return;
    }
    c.received += static_cast<std::size_t>(got);
    c.partial.append(buffer, static_cast<std::size_t>(got));
    std::size_t start = 0;
    for (std::size_t end; (end = c.partial.find('\n', start)) != std::string::npos; start = end + 1)
      check_line(index, c.partial.substr(start, end - start));
    c.partial.erase(0, start);
  }
}

void chat_clients::check_line(int index, const std::string& line) {
  chat_client& c = (*this)[index];
  ++c.lines;
  if (!wrong_.empty()) return;  // the first wrong line is the one reported
  const std::string to = client_name(index);
  std::istringstream words(line);
  int sender = -1;
  std::string second;
  words >> sender >> second;
  const bool known_sender = sender >= 0 && sender < size();
  if (known_sender && second == "hello" && line == std::to_string(sender) + " hello") {
    if (sender == index)
      wrong_ = to + " got its own hello back: a post goes to every member but the one who sent it";
    else if (++c.hellos[sender] > 1)
      wrong_ = to + " got the hello of " + client_name(sender) +
               " twice: a line must reach each other member once";
    return;
  }
  int number = -1;
  std::size_t length = 0;
  std::istringstream numbers(line);
  numbers >> sender >> number >> length;
  if (!numbers || !known_sender || number < 0 || line != line_text(sender, number, length)) {
    wrong_ = to + " got a line that no client sent: \"" + shown(line) +
             "\" (lines must reach the others whole, as they were sent, and a piece of a line "
             "is no line)";
    return;
  }
  const std::string from = client_name(sender);
  if (sender == index) {
    wrong_ = to + " got its own line " + std::to_string(number) +
             " back: a post goes to every member but the one who sent it";
    return;
  }
  const auto last = c.last.find(sender);
  const int expected = last == c.last.end() ? 0 : last->second + 1;
  if (number < expected)
    wrong_ = to + " got line " + std::to_string(number) + " of " + from + " after its line " +
             std::to_string(expected - 1) +
             (number == expected - 1 ? ": the same line twice" : ": out of order") +
             ". Each line must reach each other member once, in the order it was sent";
  else if (number > expected)
    wrong_ = to + " never got line " + std::to_string(expected) + " of " + from + ": line " +
             std::to_string(number) +
             " came next. A line was lost: every line must reach every other member";
  c.last[sender] = number;
}

bool chat_clients::heard_hello(int to, int from) const {
  const auto& hellos = clients_[static_cast<std::size_t>(to)].hellos;
  return hellos.count(from) != 0;
}

bool chat_clients::heard(int to, int from, int count) const {
  if (count == 0) return true;
  const auto& last = clients_[static_cast<std::size_t>(to)].last;
  const auto found = last.find(from);
  return found != last.end() && found->second >= count - 1;
}

std::string chat_clients::progress(int to, int from, int count) const {
  const auto& last = clients_[static_cast<std::size_t>(to)].last;
  const auto found = last.find(from);
  const int had = found == last.end() ? 0 : found->second + 1;
  return client_name(to) + " had " + std::to_string(had) + " of " + client_name(from) + "'s " +
         std::to_string(count) + " lines";
}

drive_result chat_clients::drive(const std::function<bool()>& until) {
  echo_check::stall_watch watch(server_.pid());
  for (;;) {
    if (!wrong_.empty()) return ended_as(drive_result::kind::wrong, wrong_);
    if (until()) return {};
    if (const auto end = server_.ended()) {
      drive_result died = ended_as(drive_result::kind::server_ended, echo_check::describe(*end));
      died.end = end;
      return died;
    }
    std::vector<pollfd> watched;
    std::vector<int> owners;
    for (int i = 0; i < size(); ++i) {
      const chat_client& c = (*this)[i];
      if (!c.fd || c.ended || c.gone) continue;
      const short events =
          static_cast<short>((c.reads ? POLLIN : 0) | (c.sent < c.out.size() ? POLLOUT : 0));
      if (events == 0) continue;
      watched.push_back({c.fd.get(), events, 0});
      owners.push_back(i);
    }
    // Short waits: the server's death and the stall watch are looked at in between.
    const int ready = ::poll(watched.data(), watched.size(), 20);
    bool moved = false;
    for (std::size_t k = 0; ready > 0 && k < watched.size(); ++k) {
      if (watched[k].revents == 0) continue;
      chat_client& c = (*this)[owners[k]];
      const std::size_t sent_before = c.sent, received_before = c.received;
      const bool ended_before = c.ended;
      if ((watched[k].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) send_some(c);
      if (c.reads && (watched[k].revents & (POLLIN | POLLERR | POLLHUP)) != 0) receive(owners[k]);
      if (c.sent != sent_before || c.received != received_before || c.ended != ended_before)
        moved = true;
    }
    if (moved) {
      watch.progressed();
      continue;
    }
    switch (watch.look()) {
      case echo_check::stall_watch::verdict::keep_waiting:
        break;
      case echo_check::stall_watch::verdict::stuck: {
        drive_result stuck = ended_as(drive_result::kind::stuck, watch.stuck_words());
        stuck.call = echo_check::blocking_call(server_.pid());
        return stuck;
      }
      case echo_check::stall_watch::verdict::too_busy:
        return ended_as(drive_result::kind::too_busy,
                        "the machine was too busy to see the server move");
    }
  }
}

drive_result chat_clients::drain(int who, std::size_t enough) {
  (*this)[who].reads = true;
  return drive([&] { return (*this)[who].ended || (*this)[who].lines >= enough; });
}

}  // namespace chat_check
