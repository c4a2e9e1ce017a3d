// Real clients of the student's server, driven from the checking thread.
//
// Every client is a non-blocking TCP socket on 127.0.0.1, and one poll()
// loop moves all of them: each sends its message in pieces (one send() per
// piece, so the server sees the message split where the plan says), reads
// its echo and compares it with what it sent as it arrives. One thread for
// all clients keeps the order of events observable: `finished_order` says
// which client got its last echoed byte first, with no clock involved.
//
// drive() waits for the clients with a stall_watch on the server: a server
// that stops moving bytes is reported as blocked or busy, from its own
// figures; one that dies is reported as such at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <lab/unique_fd.hpp>

#include "server_process.hpp"
#include "stall_watch.hpp"

namespace echo_check {

// What a client does.
struct client_plan {
  std::string message;              // every byte it sends
  std::vector<std::size_t> pieces;  // sizes of its send()s, in order (the rest in one piece)
  enum class reading {
    eager,         // reads its echo whenever there is some
    when_blocked,  // reads only when the server stops taking its bytes (a bulk sender)
    never,         // never reads: its receive buffer fills up
  } reads = reading::eager;
  enum class ending {
    after_echo,  // closes when every byte came back
    reset,       // after `stop_after` bytes sent: closes with SO_LINGER 0 (a reset, RST)
    close,       // after `stop_after` bytes sent: closes at once, echo or not
    stay,        // stays connected after its echo, until close_all()
  } ends = ending::after_echo;
  std::size_t stop_after = 0;
  int receive_buffer = 0;  // SO_RCVBUF when not 0: a small one fills up soon
};

// A message of `size` random bytes cut at random places into pieces of at
// most `longest_piece` bytes: the run's seed makes both.
client_plan random_client(std::mt19937_64& random, std::size_t size,
                          std::size_t longest_piece = 4096);

// One client while it runs.
struct client {
  client_plan plan;
  lab::unique_fd fd;
  std::size_t piece = 0;      // the next piece to send
  std::size_t sent = 0;       // bytes of plan.message sent so far
  std::size_t echoed = 0;     // bytes of its echo received so far
  bool send_blocked = false;  // its last send was partial or found no room: its buffer is full
  bool done = false;          // closed: finished (echo complete) or ended as planned
  bool echo_complete = false;
  bool cut_off = false;  // the server closed or reset it before its echo was complete
  std::optional<std::size_t> wrong_at;  // where its echo first differed from what it sent
  std::string after_wrong;              // the first bytes of its echo from there on
  std::string wrong_text;               // what went wrong, in words, when not a wrong byte
  long finished_order = -1;             // when its echo became complete, among all clients
};

// How a drive ended.
struct drive_result {
  enum class kind { done, stuck, server_ended, too_busy } how = kind::done;
  std::string why;                // for stuck, server_ended and too_busy: the words for a message
  std::optional<server_end> end;  // for server_ended
};

class echo_clients {
 public:
  explicit echo_clients(server_process& server) : server_(server) {}

  // Connects a new client that will follow `plan`; returns its index.
  std::size_t add(client_plan plan);

  // Moves the clients until until() is true (by default: every client is
  // done), a client's echo is wrong (see first_wrong), or the server
  // stops moving bytes or dies.
  drive_result drive(const std::function<bool()>& until = {});

  // Closes every client that is still open (a plain close).
  void close_all();

  client& operator[](std::size_t i) { return clients_[i]; }
  std::size_t size() const { return clients_.size(); }

  // The first client whose echo went wrong (bytes changed, missing or cut
  // off), described for a message; "" if none. With `settled`, a wrong byte
  // counts only once enough bytes came after it to tell dropped bytes from
  // changed ones (or the client is over).
  std::string first_wrong(bool settled = true) const;
  bool all_done() const;
  // Every client got its whole echo (or ended as planned).
  bool all_echoed() const;
  // Why the clients got stuck, for a message: what the server did meanwhile
  // (stall_watch::stuck_words) and how far the first waiting client got.
  std::string stuck_words(const stall_watch& watch) const;
  // Bytes sent and echoed by every client so far.
  std::uint64_t moved() const { return moved_; }

 private:
  void send_some(client& c);
  void receive(client& c);
  void finish(client& c);

  server_process& server_;
  std::vector<client> clients_;
  std::uint64_t moved_ = 0;
  long completions_ = 0;
};

}  // namespace echo_check
