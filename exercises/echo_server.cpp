// Exercise: echo_server                 lessons: blocking, select, event-loops
//                                       (`bin/lab lesson blocking`, `select`, `event-loops`)
//
// Goal: an echo server, three times. Each one sends every byte a client
// sends straight back to it, in order, to as many clients as come.
//   1. serve_blocking  one client at a time, with blocking calls (lesson 02)
//   2. serve_select    one thread for every client: a select() loop with a
//                      queue of bytes to echo per client    (lesson 03)
//   3. serve_epoll     the same loop on epoll                (lesson 10)
//
// The checks make the listening socket (on 127.0.0.1, a port the OS picked)
// and pass you its descriptor, `listener_fd`. They also pass `stop_fd`, the
// read end of a pipe: when it becomes readable, your server returns. It is
// the lecture's select server that quits when you type on stdin: a server
// must watch for "time to stop" the same way it watches its sockets, since
// while it waits in accept(), select() or epoll_wait() it can do nothing else.
//
// Real clients connect from the checks: many at once, with messages cut at
// random places, a multi-megabyte one, some that reset their connection in
// the middle, one that never reads its echo. A client's error ends that
// client, never the server. An idle server must sleep (no CPU), and every
// client's socket must be closed when the client goes.
//
// The socket layer is in <lab/net/...>: recv_some / send_some / send_all
// handle EINTR, and report a client that hung up or reset as a result
// (io_status), never as SIGPIPE. lab::unique_fd closes a socket for you.
//
// Run the checks:  bin/lab exercise echo_server      (or --stage 2, 3)
// Stuck?           bin/lab hint echo_server
#include <lab/net/epoll_set.hpp>
#include <lab/net/select_set.hpp>
#include <lab/net/socket.hpp>
#include <lab/todo.hpp>

namespace net = lab::net;

// Given: waits until a client waits to be accepted on `listener_fd` (true)
// or `stop_fd` is readable (false). The blocking server's only select():
// you will write loops like it in stage 2.
bool wait_for_client_or_stop(int listener_fd, int stop_fd) {
  for (;;) {
    net::select_set sets;  // rebuilt every time: select() overwrites it
    sets.watch_read(listener_fd);
    sets.watch_read(stop_fd);
    if (sets.wait(net::wait_forever) == 0) continue;  // a signal came: look again
    if (sets.readable(stop_fd)) return false;
    if (sets.readable(listener_fd)) return true;
  }
}

// Stage 1: one client at a time.
void serve_blocking(int listener_fd, int stop_fd) {
  while (wait_for_client_or_stop(listener_fd, stop_fd)) {
    // TODO: accept the client (net::accept_client), then recv_some() a
    // chunk and send_all() it back, until the client hangs up or resets.
    lab::todo("stage 1: accept the client and echo what it sends until it hangs up");
  }
}

// Stage 2: every client on one thread, with select().
void serve_select([[maybe_unused]] int listener_fd, [[maybe_unused]] int stop_fd) {
  // TODO: make the listener non-blocking; keep a map from each client's
  // descriptor to its socket and its queue of bytes to echo. Each turn: build
  // a select_set (the listener, stop_fd, every client for reading, and for
  // writing those whose queue is not empty), wait, then accept, recv onto
  // queues and send what each socket takes off them.
  lab::todo("stage 2: the select() loop with a queue of bytes to echo per client");
}

// Stage 3: the same loop on epoll.
void serve_epoll([[maybe_unused]] int listener_fd, [[maybe_unused]] int stop_fd) {
  // TODO: as in stage 2, but register each descriptor once with an
  // net::epoll_set, and modify() a client's interest when its queue starts
  // or stops having bytes to send.
  lab::todo("stage 3: the same loop on epoll");
}
