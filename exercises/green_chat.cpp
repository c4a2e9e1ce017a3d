// Exercise: green_chat                     lesson: green-threads (`bin/lab lesson green-threads`)
//
// Goal: a chat room on green threads (lecture 004's chat, as gevent would
// serve it). Clients connect and send lines; every line a client sends
// reaches every other client once, in the order it was sent. One thread
// serves everybody: a greenlet per client, as in the lesson's echo.green.
//   1. broadcast: the room keeps its members, each with a queue of lines to
//      send (its outbox: a lab::green::queue); a post puts the line on every
//      other member's outbox; each member has a writer greenlet that sends
//      its outbox to its client (send_loop)
//   2. a slow client: one that stops reading must not hold up the others
//      (the queues take care of that, if a post never sends itself), but its
//      outbox must not grow without end either: when it is full, drop the
//      member
//   3. clients that go: one that stays silent for idle_limit() is dropped
//      (a lab::green::timeout around each read); one that vanishes in the
//      middle of a line (a reset) leaves the room, and its socket is closed
//
// Why in this order: stage 1 is the room itself; stage 2 is what the queues
// are for (a post that sent to each client itself would wait for the
// slowest one, and with it every line after); stage 3 is the cleanup that a
// server running for days needs, and a greenlet's timeout does it in one line.
//
// The server around your code is given at the bottom (serve_chat): it calls
// lab::green::patch_all(), so recv, send and poll made inside a greenlet wait
// in the hub and let the others run. A call the patch cannot reach (fgets on
// a FILE*: the C library reads inside itself) blocks the whole thread, and
// with it every client. Use lab::net (recv_some, send_all) and the given
// line_reader.
//
// The checks connect real clients over 127.0.0.1: many at once, one that
// never reads, ones that reset in the middle of a line, one that says
// nothing. They watch the order of what arrives, never the clock.
//
// Run the checks:  bin/lab exercise green_chat      (or --stage 2, 3)
// Stuck?           bin/lab hint green_chat
// Compare:         bin/lab demo echo.green
#include <sys/socket.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <lab/green.hpp>
#include <lab/green_patch.hpp>
#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>
#include <lab/todo.hpp>
#include <lab/unique_fd.hpp>

// Given by the checks: how long a client may stay silent before the server
// drops it (stage 3).
std::chrono::milliseconds idle_limit();

// How many lines may wait in a member's outbox; one more, and the member
// counts as too slow and is dropped (stage 2). Room for bursts: a handler
// posts every line of one recv() before any writer runs, and several
// handlers may run in a row.
constexpr std::size_t max_queued = 1000;

// One client in the room. Shared by its two greenlets (handler and writer):
// whichever ends last frees it, and closes the socket with it.
struct member {
  lab::unique_fd socket;
  lab::green::queue<std::string> outbox;  // lines posted by the others, not yet sent
};

class chat_room {
 public:
  // Every line posted from now on reaches `m` too.
  void join([[maybe_unused]] member& m) {
    // TODO (stage 1): add &m to members_.
  }

  // `m` gets no more lines. Harmless if it already left (or was dropped).
  void leave([[maybe_unused]] member& m) {
    // TODO (stage 1): take &m out of members_ (std::erase).
  }

  // Puts `line` on the outbox of every member but `from`. Must never wait:
  // a post that waited for one client would hold up everybody.
  void post([[maybe_unused]] const member& from, [[maybe_unused]] const std::string& line) {
    for (member* to : members_) {
      // TODO (stage 1): put the line on to->outbox, unless `to` is the sender.
      // TODO (stage 2): a member whose outbox holds max_queued lines already
      // reads too slowly: drop it (take it out of the room, and shut its
      // socket down with ::shutdown(fd, SHUT_RDWR): its handler's recv then
      // sees the end, its writer's send fails, and both end). Not while the
      // loop walks members_: collect them, drop them after the loop.
      if (to->outbox.size() >= max_queued)
        lab::todo("stage 2: a member whose outbox is full reads too slowly: drop it from the room");
    }
  }

 private:
  std::vector<member*> members_;  // in the room now; each points into a handler's shared member
};

// Given: reads one client's lines.
class line_reader {
 public:
  explicit line_reader(int fd) : fd_(fd) {}

  // The client's next line, without its '\n'. Waits until a whole line is
  // there: recv() is patched, so the wait lets the other greenlets run.
  // nullopt once the client hung up or reset (a piece of a line it sent
  // before that is no line, and is dropped).
  std::optional<std::string> next() {
    for (;;) {
      if (const auto end = pending_.find('\n'); end != std::string::npos) {
        std::string line = pending_.substr(0, end);
        pending_.erase(0, end + 1);
        return line;
      }
      char chunk[4096];
      const auto got = lab::net::recv_some(fd_, chunk);
      if (got.status != lab::net::io_status::ok) return std::nullopt;
      pending_.append(chunk, got.bytes);
    }
  }

 private:
  int fd_;
  std::string pending_;  // received, not yet a whole line
};

// A member's writer, a greenlet of its own: sends the lines of its outbox
// to the client, in order, as they come (each with its '\n' back on).
// It waits for a line (outbox.get()) and for room in the socket (send_all,
// patched): neither holds up any other greenlet. Ends when the client is
// gone (send_all returns false); its handler kills it otherwise.
void send_loop([[maybe_unused]] const std::shared_ptr<member>& me) {
  // TODO (stage 1): for ever: take the next line off me->outbox, send it
  // with lab::net::send_all(me->socket.get(), line + "\n"); return if that fails.
}

// The greenlet of one client: joins the room, starts the client's writer,
// then posts every line the client sends until it hangs up or resets.
void handle_client([[maybe_unused]] chat_room& room, lab::unique_fd socket) {
  const auto me = std::make_shared<member>();
  me->socket = std::move(socket);
  // TODO (stage 1): join the room; start the writer, a greenlet that runs
  // send_loop(me) (lab::green::spawn_named("writer", ...): capture `me`, the
  // shared_ptr, so the member lives as long as the writer needs it). However
  // this function ends (the client went, or the server stops and kills this
  // greenlet), the member must leave the room and the writer be killed: do
  // both in the destructor of a small struct (neither call waits).
  // Then read lines with a line_reader on me->socket and post each one,
  // until next() says the client is gone.
  lab::todo("stage 1: join the room, start the member's writer, and post every line it sends");
  // TODO (stage 3): a client that says nothing for idle_limit() must be
  // dropped: open a lab::green::timeout(idle_limit()) around each read of a
  // line, and end this function when it raises lab::green::timed_out.
}

// ---- Given: the server around your code -------------------------------------

// Waits (a patched poll: in the hub) until a client waits on `listener_fd`
// (true) or `stop_fd` became readable (false).
bool wait_for_client_or_stop(int listener_fd, int stop_fd) {
  pollfd watched[2] = {{listener_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    if (::poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      lab::net::throw_errno("poll");
    }
    if (watched[1].revents != 0) return false;
    if (watched[0].revents != 0) return true;
  }
}

// Serves the chat on `listener_fd` until `stop_fd` becomes readable: a
// handle_client greenlet per client, as gevent's StreamServer does. A todo()
// that a handler reaches stops the server and comes out of here.
void serve_chat(int listener_fd, int stop_fd) {
  lab::green::patch_all();  // recv, send and poll in greenlets wait in the hub
  chat_room room;
  std::exception_ptr unfinished;  // the first todo() a handler reached
  std::vector<lab::green::greenlet<void>> handlers;
  std::optional<lab::green::greenlet<void>> acceptor;
  acceptor = lab::green::spawn_named("acceptor", [&] {
    while (wait_for_client_or_stop(listener_fd, stop_fd)) {
      lab::unique_fd client = lab::net::accept_client(listener_fd);
      if (!client) continue;  // it gave up before we took it
      std::erase_if(handlers, [](const auto& handler) { return handler.done(); });
      // A greenlet's function is copied: the socket travels in a shared_ptr.
      auto socket = std::make_shared<lab::unique_fd>(std::move(client));
      handlers.push_back(lab::green::spawn_named("client", [&, socket] {
        try {
          handle_client(room, std::move(*socket));
        } catch (const lab::not_done&) {
          if (!unfinished) unfinished = std::current_exception();
          acceptor->kill();
        }
      }));
    }
  });
  acceptor->join();
  for (const auto& handler : handlers) handler.kill();  // each leaves at its wait
  lab::green::run();
  lab::green::unpatch_all();
  if (unfinished) std::rethrow_exception(unfinished);
}
