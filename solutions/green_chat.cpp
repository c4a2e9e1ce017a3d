// Solution: green_chat                      lesson: green-threads (`bin/lab lesson green-threads`)
//
// A chat room on green threads. Each client has two greenlets: its handler
// reads the lines it sends and posts them to the room; its writer sends it
// the lines the others posted, from its own queue (its outbox). A post only
// puts a line on queues, which never waits: so no client, however slow,
// holds up the one who posted, nor through it everybody else.
//
// One thread runs every greenlet, and a greenlet runs until it waits (for a
// socket, a queue, a timer). So the room's list of members needs no lock:
// nothing else runs between two of its waits, and join, leave and post
// never wait.
//
// lesson: green-threads, slide "A chat server"
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
  void join(member& m) { members_.push_back(&m); }

  // `m` gets no more lines. Harmless if it already left (or was dropped).
  void leave(member& m) { std::erase(members_, &m); }

  // Puts `line` on the outbox of every member but `from`, in the order of
  // posts, so that each client sees each sender's lines in order. Never
  // waits. A member whose outbox is already full reads too slowly: it is
  // dropped (gone from the room, its socket shut down) rather than let the
  // server buffer lines for it without end.
  void post(const member& from, const std::string& line) {
    std::vector<member*> too_slow;
    for (member* to : members_) {
      if (to == &from) continue;
      if (to->outbox.size() >= max_queued) {
        too_slow.push_back(to);
        continue;
      }
      to->outbox.put(line);
    }
    for (member* slow : too_slow) drop(*slow);
  }

 private:
  // Removes `m` and shuts its socket down: its handler's recv() then sees
  // the end of the stream and its writer's send() fails, so both greenlets
  // end the way they end for a client that hung up.
  void drop(member& m) {
    leave(m);
    ::shutdown(m.socket.get(), SHUT_RDWR);
  }

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
// to the client, in order, as they come. It waits in two places, for a line
// (outbox.get()) and for room in the socket (a patched send()), and neither
// holds up any other greenlet. Ends when the client is gone; its handler
// kills it otherwise.
void send_loop(const std::shared_ptr<member>& me) {
  for (;;) {
    const std::string line = me->outbox.get();
    if (!lab::net::send_all(me->socket.get(), line + "\n")) return;
  }
}

// The greenlet of one client: joins the room, starts the client's writer,
// then posts every line the client sends until it hangs up, resets or stays
// silent for idle_limit().
void handle_client(chat_room& room, lab::unique_fd socket) {
  const auto me = std::make_shared<member>();
  me->socket = std::move(socket);
  room.join(*me);
  const auto writer = lab::green::spawn_named("writer", [me] { send_loop(me); });
  // However this function ends (the client went, or the server stops and
  // kills this greenlet), the member leaves the room and its writer ends.
  // Neither call waits, so a destructor may make both.
  struct farewell {
    chat_room& room;
    member& me;
    lab::green::greenlet<void> writer;
    ~farewell() {
      room.leave(me);
      writer.kill();
    }
  } on_exit{room, *me, writer};

  line_reader reader(me->socket.get());
  for (;;) {
    std::optional<std::string> line;
    try {
      // A deadline for each line: a client that went quiet, or whose
      // machine vanished without a word (no FIN, no reset ever comes), is
      // dropped once the limit passes. The scope closes before the post.
      lab::green::timeout quiet(idle_limit(), "the client's next line");
      line = reader.next();
    } catch (const lab::green::timed_out&) {
      return;  // idle too long: on_exit drops it
    }
    if (!line) return;  // hung up or reset
    room.post(*me, *line);
  }
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
