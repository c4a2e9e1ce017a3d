// Real chat clients of the student's server, driven from the checking thread.
//
// Every client is a non-blocking TCP socket on 127.0.0.1, and one poll()
// loop moves all of them, so that the order of events is observable with no
// clock: "the fast clients had every line while the slow one had read none"
// is what happened in this loop, in this order.
//
// A line says who sent it and its number: "<sender> <number> <length> <text>",
// where the text is made from the other three; a hello is "<sender> hello".
// Each client checks every line as it arrives: a line it sent itself, a line
// twice, out of order or skipped, or a line that is not one any client sent,
// is a wrong line (first_wrong), and drive() stops at once to report it.
//
// drive() waits with a stall_watch on the server (stall_watch.hpp, shared
// with echo_server): a server that stops moving bytes is reported as blocked
// (and in which call) or burning CPU, from its own figures.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <lab/unique_fd.hpp>

#include "server_process.hpp"
#include "stall_watch.hpp"

namespace chat_check {

using echo_check::server_end;
using echo_check::server_process;

// One client while it runs.
struct chat_client {
  lab::unique_fd fd;
  bool reads = true;  // false: never reads (until drain()): its buffers fill up
  std::string out;    // bytes to send, from `sent` on
  std::size_t sent = 0;
  std::size_t received = 0;   // bytes received
  std::string partial;        // received, not yet a whole line
  bool ended = false;         // the server closed or reset the connection
  bool gone = false;          // this side closed it (close() or vanish())
  std::size_t lines = 0;      // lines received (hellos included)
  std::map<int, int> last;    // per sender: the number of its last line received
  std::map<int, int> hellos;  // per sender: hellos received
};

// How a drive ended.
struct drive_result {
  enum class kind { done, wrong, stuck, server_ended, too_busy } how = kind::done;
  std::string why;                // the words for a message
  std::optional<server_end> end;  // for server_ended
  std::string call;               // for stuck: the system call the server sat in ("" if none)
};

class chat_clients {
 public:
  explicit chat_clients(server_process& server) : server_(server) {}

  // Connects a new client; returns its number (its index). With
  // `reads` false it never reads, and has a small receive buffer.
  int connect(bool reads = true);

  // Queues a hello from `who`.
  void hello(int who);
  // Queues `who`'s line number `number`, `length` bytes long (at least 16).
  void say(int who, int number, std::size_t length);
  // Sends the first bytes of a line (no '\n') and resets the connection
  // (SO_LINGER 0: an RST, as from a crashed client) without waiting.
  void vanish(int who);
  // Closes `who` (a plain hang-up).
  void close(int who);
  void close_all();

  // Moves the clients until until() is true, a line arrives wrong, or the
  // server stops moving bytes or dies.
  drive_result drive(const std::function<bool()>& until);

  // Lets `who` read from now on, and drives until its connection ended or
  // it received `enough` lines in all.
  drive_result drain(int who, std::size_t enough);

  chat_client& operator[](int i) { return clients_[static_cast<std::size_t>(i)]; }
  int size() const { return static_cast<int>(clients_.size()); }

  // Did `to` get `from`'s hello / lines 0 to `count` - 1?
  bool heard_hello(int to, int from) const;
  bool heard(int to, int from, int count) const;

  // The first wrong line, described for a message; "" if none.
  const std::string& first_wrong() const { return wrong_; }

  // How far `to` got with `from`'s lines, in words: "client 2 had 17 of
  // client 0's 40 lines".
  std::string progress(int to, int from, int count) const;

 private:
  void send_some(chat_client& c);
  void receive(int index);
  void check_line(int index, const std::string& line);

  server_process& server_;
  std::vector<chat_client> clients_;
  std::string wrong_;
};

// The text of `sender`'s line number `number`, `length` bytes (no '\n').
std::string line_text(int sender, int number, std::size_t length);

}  // namespace chat_check
