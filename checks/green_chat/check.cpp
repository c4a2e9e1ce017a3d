// Hidden checks for the green_chat exercise (exercises/green_chat.cpp).
//
// Every check starts the student's serve_chat in a fork()ed child
// (server_process.hpp, shared with echo_server, says why), on a listening
// socket of 127.0.0.1 with a port the OS picked, talks to it with real
// client sockets from this process (chat_clients.hpp), and ends it through
// its stop descriptor.
//
// No verdict comes from the clock. "The slow client did not hold up the
// others" is the order of events in the clients' loop: the fast clients had
// every line while the slow one had read none. A server that stops moving
// bytes fails with what /proc shows it doing (stall_watch.hpp): a greenlet
// server at rest sits in epoll_wait (the hub); one that sits in any other
// call has blocked its only thread, and so every greenlet.
#include <lab/check.hpp>
#include <lab/progress.hpp>
#include <lab/todo.hpp>

#include <csignal>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "chat_clients.hpp"
#include "server_figures.hpp"
#include "server_process.hpp"
#include "stall_watch.hpp"

void serve_chat(int listener_fd, int stop_fd);

using namespace chat_check;
using echo_check::in_seconds;

namespace {

// The idle limit the server gets from idle_limit(): so long that no client
// of a check comes near it, but in the idle check.
constexpr std::chrono::milliseconds no_idle_limit = std::chrono::hours(1);
std::chrono::milliseconds current_idle_limit = no_idle_limit;

// Sets the idle limit for the servers started in a scope (the child
// inherits it at fork()), and puts it back after.
struct idle_limit_scope {
  explicit idle_limit_scope(std::chrono::milliseconds limit) { current_idle_limit = limit; }
  ~idle_limit_scope() { current_idle_limit = no_idle_limit; }
};

const std::string thread_advice =
    "A greenlet that blocks the thread freezes every other greenlet: the hub never runs again "
    "until that call returns. Use the calls the patch makes cooperative (line_reader, "
    "lab::net::recv_some and send_all), never a FILE* (fgets) or a call the patch cannot reach "
    "(lesson: green-threads, slide \"One blocking call freezes everything\")";

const std::string writer_advice =
    "A post must only put the line on the outboxes; each member's own writer greenlet sends "
    "them (send_loop), so that a client that does not read holds up nobody but itself";

// Turns how a drive ended into the check's verdict: true when it may go on.
// `doing` says what the clients were doing, `advice` what to do when the
// server got stuck there with its greenlets waiting in the hub.
bool drove(const drive_result& result, const std::string& doing, const std::string& advice = "") {
  switch (result.how) {
    case drive_result::kind::done:
      return true;
    case drive_result::kind::wrong:
      FAIL_CHECK(doing, ": ", result.why);
      return false;
    case drive_result::kind::server_ended:
      if (result.end && result.end->how == server_end::kind::todo) {
        lab::detail::record_todo(result.end->text);  // reported as the stub's TODO
        FAIL_CHECK(result.end->text);
      } else {
        FAIL_CHECK(doing, ": ", result.why);
      }
      return false;
    case drive_result::kind::stuck:
      if (!result.call.empty() && result.call.find("epoll_wait") == std::string::npos)
        FAIL_CHECK(doing, ": ", result.why, ". ", thread_advice);
      else
        FAIL_CHECK(doing, ": ", result.why, advice.empty() ? "" : ". ", advice);
      return false;
    case drive_result::kind::too_busy:
      lab::check::undecided(result.why);
      return false;
  }
  return false;
}

// Ends the check's server through its stop descriptor; a server that does
// not return, or dies instead, fails the check.
void stop(server_process& server) {
  // The stop byte goes down a pipe: a server that has just died would turn
  // it into a SIGPIPE for the check itself (the server's own end says how it died).
  ::signal(SIGPIPE, SIG_IGN);
  const server_end end = server.stop();
  if (end.how == server_end::kind::returned) return;
  if (end.how == server_end::kind::too_busy) {
    lab::check::undecided(end.text);
    return;
  }
  if (end.how == server_end::kind::todo) lab::detail::record_todo(end.text);
  FAIL_CHECK("stopping the server: ", echo_check::describe(end));
}

// Connects a client that says hello, and drives until every client before
// it that reads and is still there heard that hello: then the new client is
// surely in the room (a handler joins before it reads), and so are they.
bool join(chat_clients& clients, bool reads, int& who) {
  who = clients.connect(reads);
  clients.hello(who);
  const auto heard = [&] {
    for (int i = 0; i < who; ++i) {
      const chat_client& c = clients[i];
      if (c.reads && !c.gone && !c.ended && !clients.heard_hello(i, who)) return false;
    }
    return true;
  };
  return drove(clients.drive(heard),
               "client " + std::to_string(who) + " joining " + std::to_string(who) +
                   " others and saying hello",
               "Is every member in the room (join) with a writer greenlet running send_loop, and "
               "does every line the handler reads get posted?");
}

// Joins `count` clients that read; false if that failed (the check has failed).
bool join_readers(chat_clients& clients, int count) {
  for (int i = 0; i < count; ++i) {
    int who = 0;
    if (!join(clients, true, who)) return false;
  }
  return true;
}

// True when every client in `receivers` had `count` lines from every client
// in `senders` but itself.
bool all_heard(const chat_clients& clients, const std::vector<int>& receivers,
               const std::vector<int>& senders, int count) {
  for (int to : receivers)
    for (int from : senders)
      if (to != from && !clients.heard(to, from, count)) return false;
  return true;
}

// The first receiver that misses lines, in words: "client 2 had 17 of
// client 0's 40 lines".
std::string first_missing(const chat_clients& clients, const std::vector<int>& receivers,
                          const std::vector<int>& senders, int count) {
  for (int to : receivers)
    for (int from : senders)
      if (to != from && !clients.heard(to, from, count)) return clients.progress(to, from, count);
  return "";
}

// Waits until the server sleeps in the kernel with nothing left to do: it
// is blocked ('S') in two looks a little apart and used no CPU between them.
bool wait_until_resting(server_process& server, const std::string& doing) {
  echo_check::stall_watch watch(server.pid());
  echo_check::server_figures before = echo_check::read_figures(server.pid());
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (const auto end = server.ended()) {
      FAIL_CHECK(doing, ": ", echo_check::describe(*end));
      return false;
    }
    const echo_check::server_figures now = echo_check::read_figures(server.pid());
    if (before.state == 'S' && now.state == 'S' && now.cpu_seconds - before.cpu_seconds < 1e-3)
      return true;
    before = now;
    switch (watch.look()) {
      case echo_check::stall_watch::verdict::keep_waiting:
        break;
      case echo_check::stall_watch::verdict::stuck:
        FAIL_CHECK(doing, ": the server never came to rest: ", watch.stuck_words());
        return false;
      case echo_check::stall_watch::verdict::too_busy:
        lab::check::undecided("the machine was too busy to see the server rest");
        return false;
    }
  }
}

std::size_t random_length(std::mt19937_64& random) {
  return std::uniform_int_distribution<std::size_t>(20, 200)(random);
}

}  // namespace

// Given to the student's code: how long a client may stay silent.
std::chrono::milliseconds idle_limit() {
  return current_idle_limit;
}

// ---- stage 1: broadcast ----------------------------------------------------

TEST_CASE("every line reaches every other client once and in order") {
  std::mt19937_64 random(lab::check::seed());
  server_process server(serve_chat);
  chat_clients clients(server);
  const int count = 6, lines = 40;
  if (!join_readers(clients, count)) return;
  // Everybody talks at once: the server reads from all of them in turn.
  std::vector<int> everybody;
  for (int who = 0; who < count; ++who) {
    everybody.push_back(who);
    for (int n = 0; n < lines; ++n) clients.say(who, n, random_length(random));
  }
  INFO("seed ", lab::check::seed());
  const std::string doing =
      std::to_string(count) + " clients each sending " + std::to_string(lines) + " lines at once";
  const auto result =
      clients.drive([&] { return all_heard(clients, everybody, everybody, lines); });
  if (!drove(result, doing,
             "Lines are missing (" + first_missing(clients, everybody, everybody, lines) + "). " +
                 writer_advice))
    return;
  MESSAGE(count, " clients each got the ", (count - 1) * lines,
          " lines of the others, once and in order");
  stop(server);
}

TEST_CASE("a client that hangs up leaves and the others go on") {
  std::mt19937_64 random(lab::check::seed());
  server_process server(serve_chat);
  chat_clients clients(server);
  if (!join_readers(clients, 3)) return;
  clients.close(1);
  const int lines = 20;
  for (int n = 0; n < lines; ++n) clients.say(0, n, random_length(random));
  if (!drove(clients.drive([&] { return clients.heard(2, 0, lines); }),
             "client 1 hung up, then client 0 sent " + std::to_string(lines) + " lines"))
    return;
  int late = 0;
  if (!join(clients, true, late)) return;
  for (int n = 0; n < lines; ++n) clients.say(late, n, random_length(random));
  if (!drove(clients.drive([&] {
        return all_heard(clients, {0, 2}, {late}, lines);
      }),
             "a client coming after one hung up, and sending " + std::to_string(lines) + " lines"))
    return;
  stop(server);
}

TEST_CASE("uses no CPU while its clients are silent") {
  server_process server(serve_chat);
  chat_clients clients(server);
  const int silent = 3;
  if (!join_readers(clients, silent)) return;
  if (!wait_until_resting(server, std::to_string(silent) + " clients connected")) return;
  // An idle stretch of half a second of the server's chance to run (wall
  // time it did not spend waiting for a CPU that others held).
  const auto start = echo_check::read_figures(server.pid());
  const auto began = std::chrono::steady_clock::now();
  auto now = start;
  double chance = 0, wall = 0;
  while (chance < 0.5) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    now = echo_check::read_figures(server.pid());
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    chance = wall - (now.waiting_cpu - start.waiting_cpu);
    if (wall > echo_check::busy_limit_seconds) {
      lab::check::undecided("the machine gave the server no chance to run for " + in_seconds(wall));
      return;
    }
  }
  const double used = now.cpu_seconds - start.cpu_seconds;
  const std::string figures = "it used " + in_seconds(used) + " of CPU in " + in_seconds(chance) +
                              " in which it could run (" + in_seconds(wall) +
                              " of wall time) with " + std::to_string(silent) +
                              " silent clients connected";
  // The hub waiting in epoll_wait costs nothing; a greenlet that polls or
  // yields in a loop uses whatever it is given. A tenth is far from both.
  if (used > 0.1 * chance)
    FAIL_CHECK("the server burns CPU while idle: ", figures,
               ". Each greenlet should wait (for a line, a socket, a queue) without a loop that "
               "asks again and again: outbox.get() and the patched recv and send wait in the hub");
  else
    MESSAGE("idle: ", figures);
  clients.close_all();
  stop(server);
}

// ---- stage 2: a slow client --------------------------------------------------

namespace {

// Lines the fast clients must get while the slow one reads none: far more
// than the slow one's socket buffers and outbox can hold together.
constexpr int flood_lines = 4000;
constexpr std::size_t flood_length = 200;
// Lines the sender has ahead of the fast clients at most: well below
// max_queued, so that no fast client is ever too slow, however the machine
// schedules the checking thread.
constexpr int flood_window = 50;

// Client 0 sends, 1 and 2 read, 3 reads nothing. True once 1 and 2 had
// every line of client 0 (the check has failed when false).
bool flood(chat_clients& clients) {
  if (!join_readers(clients, 3)) return false;
  int slow = 0;
  if (!join(clients, false, slow)) return false;
  int next = 0;
  const auto fast_had = [&] {
    int had = flood_lines;
    for (int fast : {1, 2}) {
      const auto found = clients[fast].last.find(0);
      had = std::min(had, found == clients[fast].last.end() ? 0 : found->second + 1);
    }
    return had;
  };
  const auto fast_done = [&] {
    while (next < flood_lines && next - fast_had() < flood_window)
      clients.say(0, next++, flood_length);
    return fast_had() == flood_lines;
  };
  const auto result = clients.drive(fast_done);
  const std::string doing =
      "client 0 sending " + std::to_string(flood_lines) + " lines while client 3 read nothing";
  return drove(result, doing,
               "The other clients waited for the slow one: " + clients.progress(1, 0, flood_lines) +
                   " and " + clients.progress(2, 0, flood_lines) + ", while client 3 read none. " +
                   writer_advice);
}

}  // namespace

TEST_CASE("a client that reads nothing does not hold up the others" *
          doctest::skip(lab::check::stage() < 2)) {
  server_process server(serve_chat);
  chat_clients clients(server);
  if (!flood(clients)) return;
  MESSAGE("clients 1 and 2 got all ", flood_lines,
          " lines of client 0 while client 3 had read none of them");
  clients.close_all();
  stop(server);
}

TEST_CASE("drops a client whose outbox is full" * doctest::skip(lab::check::stage() < 2)) {
  server_process server(serve_chat);
  chat_clients clients(server);
  if (!flood(clients)) return;
  // Now client 3 reads: a dropped client reads what reached its socket
  // before the drop, then the end of the stream; one never dropped gets
  // every line, all kept for it by the server.
  const std::size_t everything = static_cast<std::size_t>(flood_lines);
  const std::string doing = "client 3 reading at last, after " + std::to_string(flood_lines) +
                            " lines were posted while it read nothing";
  if (!drove(clients.drain(3, everything), doing,
             "Its connection stayed open with nothing more to read: a dropped member must leave "
             "the room and have its socket shut down (::shutdown(fd, SHUT_RDWR))"))
    return;
  if (!clients[3].ended) {
    FAIL_CHECK(doing, ": it got all ", flood_lines,
               " lines: the server kept every one of them for a client that read nothing, and "
               "would keep millions. When a member's outbox holds max_queued lines, drop the "
               "member (stage 2's TODO in chat_room::post)");
    return;
  }
  MESSAGE("client 3 was dropped: it had ", clients[3].lines, " lines (hellos included) of ",
          flood_lines + 3, " when its connection ended");
  // The others go on without it.
  clients.say(1, 0, 50);
  if (!drove(clients.drive([&] {
        return all_heard(clients, {0, 2}, {1}, 1);
      }),
             "client 1 sending a line after client 3 was dropped"))
    return;
  clients.close_all();
  stop(server);
}

// ---- stage 3: clients that go ------------------------------------------------

TEST_CASE("drops a client that says nothing for the idle limit" *
          doctest::skip(lab::check::stage() < 3)) {
  const idle_limit_scope short_limit(std::chrono::milliseconds(300));
  server_process server(serve_chat);
  chat_clients clients(server);
  // No waiting for each other's hellos here: with so short a limit, the
  // first may be dropped before the second has joined.
  const int first = clients.connect(), second = clients.connect();
  clients.hello(first);
  clients.hello(second);
  const std::string doing =
      "two clients each saying hello, then nothing for longer than the "
      "idle limit (" +
      std::to_string(current_idle_limit.count()) + " ms)";
  if (!drove(clients.drive([&] { return clients[first].ended && clients[second].ended; }), doing,
             "They were never dropped. Open a lab::green::timeout(idle_limit()) around each read "
             "of a line, and end the handler when it raises lab::green::timed_out (stage 3's "
             "TODO in handle_client)"))
    return;
  // Dropped, or did the server die? It must still be there, at rest.
  if (!wait_until_resting(server, doing)) return;
  MESSAGE("both silent clients were dropped");
  // The server goes on: two new clients talk (each says hello at once, so
  // neither is silent for long).
  const int third = clients.connect(), fourth = clients.connect();
  clients.hello(third);
  clients.hello(fourth);
  clients.say(fourth, 0, 30);
  clients.say(third, 0, 30);
  if (!drove(clients.drive([&] {
        return (clients.heard(third, fourth, 1) || clients[third].ended) &&
               (clients.heard(fourth, third, 1) || clients[fourth].ended);
      }),
             "two clients coming after the silent ones were dropped"))
    return;
  clients.close_all();
  stop(server);
}

TEST_CASE("goes on after clients vanish in the middle of a line" *
          doctest::skip(lab::check::stage() < 3)) {
  std::mt19937_64 random(lab::check::seed());
  server_process server(serve_chat);
  chat_clients clients(server);
  if (!join_readers(clients, 5)) return;
  // Clients 1 and 3 send half a line and reset (an RST, as from a crashed client).
  clients.vanish(1);
  clients.vanish(3);
  const std::vector<int> staying = {0, 2, 4};
  const int lines = 30;
  for (int who : staying)
    for (int n = 0; n < lines; ++n) clients.say(who, n, random_length(random));
  const auto result = clients.drive([&] { return all_heard(clients, staying, staying, lines); });
  if (!drove(result,
             "clients 1 and 3 reset in the middle of a line, and clients 0, 2 and 4 each sent " +
                 std::to_string(lines) + " lines",
             "Lines are missing (" + first_missing(clients, staying, staying, lines) + ")"))
    return;
  stop(server);
}

TEST_CASE("closes the socket of every client that has gone" *
          doctest::skip(lab::check::stage() < 3)) {
  std::mt19937_64 random(lab::check::seed());
  server_process server(serve_chat);
  chat_clients clients(server);
  int probe = 0;
  if (!join(clients, true, probe)) return;
  if (!wait_until_resting(server, "one client connected")) return;
  const int before = echo_check::open_descriptors(server.pid());
  // Visitors come one at a time (each joined: the probe heard its hello) and
  // go: a reset in the middle of a line, a hang-up, a hang-up after a line.
  const int visitors = 24;
  for (int i = 0; i < visitors; ++i) {
    int visitor = 0;
    if (!join(clients, true, visitor)) return;
    if (i % 3 == 0) {
      clients.vanish(visitor);
    } else if (i % 3 == 1) {
      clients.close(visitor);
    } else {
      clients.say(visitor, 0, random_length(random));
      if (!drove(clients.drive([&] { return clients.heard(probe, visitor, 1); }),
                 "a visitor sending a line"))
        return;
      clients.close(visitor);
    }
  }
  // One more client, and lines the room posts to every member still in it.
  int last = 0;
  if (!join(clients, true, last)) return;
  for (int n = 0; n < 5; ++n) clients.say(last, n, 40);
  if (!drove(clients.drive([&] { return clients.heard(probe, last, 5); }),
             "a client after " + std::to_string(visitors) + " others came and went"))
    return;
  clients.close(last);
  if (!wait_until_resting(server, "one client connected after the others had gone")) return;
  const int after = echo_check::open_descriptors(server.pid());
  if (after > before)
    FAIL_CHECK(std::to_string(after - before), " descriptors leaked: the server had ", before,
               " open descriptors with one client connected before ", visitors,
               " clients came and went (a third of them reset in the middle of a line), and ",
               after,
               " after them. A client that is gone must leave the room, and its member (with its "
               "socket) go away when its handler and writer have ended");
  else
    MESSAGE(before, " open descriptors with one client connected, before and after ", visitors,
            " clients came and went");
  clients.close_all();
  stop(server);
}
