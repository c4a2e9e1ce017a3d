// Hidden checks for the echo_server exercise (exercises/echo_server.cpp).
//
// Stage 1 checks serve_blocking, stage 2 serve_select, stage 3 serve_epoll.
// Every check starts the student's server in a fork()ed child
// (server_process.hpp says why) on a listening socket of 127.0.0.1 with a
// port the OS picked, talks to it with real client sockets from this
// process (echo_clients.hpp), and ends it through its stop descriptor.
// Message sizes and the places they are cut come from the run's seed.
//
// No verdict comes from the clock. A server that stops moving bytes fails
// with what /proc shows it doing: blocked, or burning CPU (stall_watch.hpp).
// "Served while the big one is still in progress" is the order in which the
// echoes completed. Idle CPU is the server's CPU time compared with the
// time it could have run; descriptors are counted in /proc/<pid>/fd.
#include <lab/check.hpp>
#include <lab/progress.hpp>
#include <lab/todo.hpp>

#include <random>
#include <string>
#include <thread>

#include "echo_clients.hpp"
#include "server_figures.hpp"
#include "server_process.hpp"
#include "stall_watch.hpp"

void serve_blocking(int listener_fd, int stop_fd);
void serve_select(int listener_fd, int stop_fd);
void serve_epoll(int listener_fd, int stop_fd);

using namespace echo_check;

namespace {

const std::string queue_advice =
    "Keep a queue of bytes to echo per client, send() only when select() or epoll says its socket "
    "is writable, and send only what the socket takes (lesson: select, slide \"A queue of replies "
    "per client\")";

serve_function stage_server() {
  switch (lab::check::stage()) {
    case 2:
      return serve_select;
    case 3:
      return serve_epoll;
    default:
      return serve_blocking;
  }
}

// Turns how a drive ended into the check's verdict: true when it may go on.
// `doing` says what the clients were doing, `advice` what to do when the
// server got stuck there.
bool drove(const drive_result& result, const echo_clients& clients, const std::string& doing,
           const std::string& advice = "") {
  // Bytes that came back wrong say more than the stall they led to.
  const std::string wrong = clients.first_wrong(/*settled=*/false);
  if (result.how == drive_result::kind::stuck && !wrong.empty()) {
    FAIL_CHECK(doing, ": ", wrong);
    return false;
  }
  switch (result.how) {
    case drive_result::kind::done:
      break;
    case drive_result::kind::server_ended:
      if (result.end && result.end->how == server_end::kind::todo) {
        lab::detail::record_todo(result.end->text);  // reported as the stub's TODO
        FAIL_CHECK(result.end->text);
      } else {
        FAIL_CHECK(doing, ": ", result.why);
      }
      return false;
    case drive_result::kind::stuck:
      FAIL_CHECK(doing, ": ", result.why, advice.empty() ? "" : ". ", advice);
      return false;
    case drive_result::kind::too_busy:
      lab::check::undecided(result.why);
      return false;
  }
  if (!wrong.empty()) {
    FAIL_CHECK(doing, ": ", wrong);
    return false;
  }
  return true;
}

// Ends the check's server through its stop descriptor; a server that does
// not return, or dies instead, fails the check.
void stop(server_process& server) {
  const server_end end = server.stop();
  if (end.how == server_end::kind::returned) return;
  if (end.how == server_end::kind::too_busy) {
    lab::check::undecided(end.text);
    return;
  }
  if (end.how == server_end::kind::todo) lab::detail::record_todo(end.text);
  FAIL_CHECK("stopping the server: ", describe(end));
}

// The longest send() of a client that sends in bulk: big enough to fill
// the buffers between it and the server in a few calls, small enough that
// a multi-megabyte message takes dozens of turns of the clients' loop.
constexpr std::size_t bulk_piece = 64 << 10;

// A plan for a client that sends `size` bytes and reads its echo only when
// the server stops taking bytes, with a small receive buffer: the echo
// piles up in the server unless it is read.
client_plan bulk_client(std::mt19937_64& random, std::size_t size) {
  client_plan plan = random_client(random, size, bulk_piece);
  plan.reads = client_plan::reading::when_blocked;
  plan.receive_buffer = 64 << 10;
  return plan;
}

// Waits until the server sleeps in the kernel with nothing left to do: it
// is blocked ('S') in two looks a little apart and used no CPU between them.
// False (the check has failed or is undecided) if it never rests.
bool wait_until_resting(server_process& server, const std::string& doing) {
  stall_watch watch(server.pid());
  server_figures before = read_figures(server.pid());
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (const auto end = server.ended()) {
      FAIL_CHECK(doing, ": ", describe(*end));
      return false;
    }
    const server_figures now = read_figures(server.pid());
    if (before.state == 'S' && now.state == 'S' && now.cpu_seconds - before.cpu_seconds < 1e-3)
      return true;
    before = now;
    switch (watch.look()) {
      case stall_watch::verdict::keep_waiting:
        break;
      case stall_watch::verdict::stuck:
        FAIL_CHECK(doing, ": the server never came to rest: ", watch.stuck_words());
        return false;
      case stall_watch::verdict::too_busy:
        lab::check::undecided("the machine was too busy to see the server rest");
        return false;
    }
  }
}

std::size_t scaled(std::size_t plain) {
  return lab::check::under_tsan() ? plain / 2 : plain;
}

}  // namespace

TEST_CASE("echoes every byte in order to many clients at once") {
  std::mt19937_64 random(lab::check::seed());
  server_process server(stage_server());
  echo_clients clients(server);
  const int count = static_cast<int>(scaled(24));
  for (int i = 0; i < count; ++i)
    clients.add(
        random_client(random, std::uniform_int_distribution<std::size_t>(1, 20'000)(random)));
  INFO("seed ", lab::check::seed());
  if (!drove(clients.drive(), clients,
             std::to_string(count) + " clients sending messages cut at random places"))
    return;
  stop(server);
}

TEST_CASE("echoes a multi-megabyte message byte for byte") {
  std::mt19937_64 random(lab::check::seed());
  server_process server(stage_server());
  echo_clients clients(server);
  clients.add(bulk_client(random, scaled(4 << 20)));
  if (!drove(clients.drive(), clients,
             "one client sending " + std::to_string(clients[0].plan.message.size()) +
                 " bytes and reading its echo only when the server stops taking them"))
    return;
  stop(server);
}

TEST_CASE("serves a small client while a big message is still being echoed" *
          doctest::skip(lab::check::stage() < 2)) {
  std::mt19937_64 random(lab::check::seed());
  server_process server(stage_server());
  echo_clients clients(server);
  const std::size_t big = clients.add(bulk_client(random, scaled(4 << 20)));
  const std::string doing = "a big client sending " +
                            std::to_string(clients[big].plan.message.size()) +
                            " bytes and a small one coming while its echo was under way";
  // The small client comes once a quarter of the big echo is back: the big
  // client is certainly in progress then.
  const std::size_t quarter = clients[big].plan.message.size() / 4;
  if (!drove(clients.drive([&] { return clients[big].echoed >= quarter; }), clients, doing)) return;
  client_plan small = random_client(random, 64);
  small.pieces = {small.message.size()};  // one send: its echo is one server turn away
  const std::size_t little = clients.add(small);
  if (!drove(clients.drive(), clients, doing)) return;
  if (clients[little].finished_order > clients[big].finished_order)
    FAIL_CHECK(doing,
               ": the small client's echo came only after the big client's last byte: "
               "the server served one client at a time. ",
               queue_advice);
  else
    MESSAGE("the small client's echo came back while the big echo was still under way");
  stop(server);
}

TEST_CASE("goes on serving after clients close or reset in the middle of a message") {
  std::mt19937_64 random(lab::check::seed());
  server_process server(stage_server());
  echo_clients clients(server);
  for (int i = 0; i < 6; ++i) {
    client_plan quitter = random_client(random, 200'000);
    quitter.ends = i % 2 == 0 ? client_plan::ending::reset : client_plan::ending::close;
    quitter.stop_after = std::uniform_int_distribution<std::size_t>(1, 150'000)(random);
    clients.add(quitter);
    clients.add(random_client(random, 5'000));
  }
  if (!drove(clients.drive(), clients,
             "clients that reset (SO_LINGER 0) or close in the middle of their message, and "
             "clients beside them"))
    return;
  clients.add(random_client(random, 1'000));
  if (!drove(clients.drive(), clients, "a client coming after the ones that reset or closed"))
    return;
  stop(server);
}

TEST_CASE("does not let a client that stops reading hold up the others" *
          doctest::skip(lab::check::stage() < 2)) {
  std::mt19937_64 random(lab::check::seed());
  server_process server(stage_server());
  echo_clients clients(server);
  // Bigger than every buffer between the two can hold, so that its sends
  // block once the server stops reading it.
  client_plan stubborn = random_client(random, 16 << 20, bulk_piece);
  stubborn.reads = client_plan::reading::never;
  stubborn.receive_buffer = 64 << 10;
  stubborn.ends = client_plan::ending::stay;
  const std::size_t first = clients.add(stubborn);
  const std::string doing = "one client sending without ever reading its echo";
  // Until the server stops taking its bytes: its echo has filled every buffer.
  const auto stuck_sending = [&] {
    return clients[first].send_blocked || clients[first].sent == clients[first].plan.message.size();
  };
  if (!drove(clients.drive(stuck_sending), clients, doing)) return;
  // The others come once the server rests with that client's bytes piling
  // up: whatever it does about them, it has done it by then.
  if (!wait_until_resting(server, doing)) return;
  const int others = 8;
  for (int i = 0; i < others; ++i) clients.add(random_client(random, 20'000));
  const auto others_echoed = [&] {
    for (std::size_t i = first + 1; i < clients.size(); ++i)
      if (!clients[i].echo_complete) return false;
    return true;
  };
  if (!drove(clients.drive(others_echoed), clients,
             "while one client did not read its echo, " + std::to_string(others) +
                 " others waited for theirs",
             queue_advice))
    return;
  clients.close_all();
  stop(server);
}

TEST_CASE("uses no CPU while no client sends anything") {
  std::mt19937_64 random(lab::check::seed());
  server_process server(stage_server());
  echo_clients clients(server);
  // The blocking server serves one client at a time: one idle client there.
  const int idle_clients = lab::check::stage() == 1 ? 1 : 3;
  for (int i = 0; i < idle_clients; ++i) {
    client_plan idle = random_client(random, 100);
    idle.ends = client_plan::ending::stay;
    clients.add(idle);
  }
  if (!drove(clients.drive([&] { return clients.all_echoed(); }), clients,
             std::to_string(idle_clients) + " clients each sending one message"))
    return;
  // An idle stretch of half a second of the server's chance to run (wall
  // time it did not spend waiting for a CPU that others held).
  const server_figures start = read_figures(server.pid());
  const auto began = std::chrono::steady_clock::now();
  server_figures now = start;
  double chance = 0, wall = 0;
  while (chance < 0.5) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    now = read_figures(server.pid());
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    chance = wall - (now.waiting_cpu - start.waiting_cpu);
    if (wall > busy_limit_seconds) {
      lab::check::undecided("the machine gave the server no chance to run for " + in_seconds(wall));
      return;
    }
  }
  const double used = now.cpu_seconds - start.cpu_seconds;
  // Waiting in select(), poll() or epoll_wait() costs nothing; a loop that
  // asks again and again uses whatever it is given. A tenth is far from both.
  const std::string figures = "it used " + in_seconds(used) + " of CPU in " + in_seconds(chance) +
                              " in which it could run (" + in_seconds(wall) +
                              " of wall time) with " + std::to_string(idle_clients) +
                              (idle_clients == 1 ? " idle client" : " idle clients") + " connected";
  if (used > 0.1 * chance)
    FAIL_CHECK("the server burns CPU while idle: ", figures,
               ". It should sleep in the kernel until a socket is ready: wait in accept(), "
               "recv(), select() or epoll_wait() without a timeout (never a zero timeout in a "
               "loop)");
  else
    MESSAGE("idle: ", figures);
  clients.close_all();
  stop(server);
}

TEST_CASE("closes the socket of every client that has gone") {
  std::mt19937_64 random(lab::check::seed());
  server_process server(stage_server());
  echo_clients clients(server);
  // One client connected and echoed: the server is in its loop, with
  // whatever descriptors it keeps for itself (an epoll instance, say).
  client_plan probe = random_client(random, 100);
  probe.ends = client_plan::ending::stay;
  const std::size_t first = clients.add(probe);
  if (!drove(clients.drive([&] { return clients[first].echo_complete; }), clients,
             "a first client"))
    return;
  if (!wait_until_resting(server, "one client connected")) return;
  const int before = open_descriptors(server.pid());
  clients.close_all();
  const int gone = 40;
  for (int i = 0; i < gone; ++i) {
    client_plan visitor = random_client(random, 1'000);
    if (i % 4 == 3) {
      visitor.ends = client_plan::ending::reset;
      visitor.stop_after = 500;
    }
    clients.add(visitor);
  }
  if (!drove(clients.drive(), clients, std::to_string(gone) + " clients coming and going")) return;
  const std::size_t last = clients.add(probe);
  if (!drove(clients.drive([&] { return clients[last].echo_complete; }), clients,
             "a client after the others had gone"))
    return;
  if (!wait_until_resting(server, "one client connected after the others had gone")) return;
  const int after = open_descriptors(server.pid());
  if (after > before)
    FAIL_CHECK(std::to_string(after - before), " descriptors leaked: the server had ", before,
               " open descriptors with one client connected before ", gone,
               " clients came and went, and ", after,
               " with one client connected after them. Close each client's socket when it hangs "
               "up or resets (a lab::unique_fd closes it when it goes away)");
  else
    MESSAGE(before, " open descriptors with one client connected, before and after ", gone,
            " clients came and went");
  clients.close_all();
  stop(server);
}
