// Hidden checks for the counting_server exercise (exercises/counting_server.cpp).
//
// The student's server runs for real: serve() on a thread of its own, a
// listening socket on 127.0.0.1 (port 0), and clients that connect from
// this process (server_run.hpp). The simulated request the student's
// handler calls is a gate the check controls (request_gate.hpp): it holds
// clients in the middle of their requests and lets them go together. So a
// handler that reads the counter, waits, then writes it back without one
// lock around both hands out a duplicate in every run, not by luck; and
// "do clients overlap?" is decided from what the gate saw (a second client
// came in while the first was held) and from /proc (its handler thread
// asleep on the server's mutex), never from speed. A server that gets stuck
// fails with what its threads were doing (server_run.cpp). Stage 1 accepts
// the lesson's locked server (the whole request under the lock); stage 2
// wants the lock around the counter only, the request outside it. The
// driver also runs every check under ThreadSanitizer.
#include <lab/check.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "request_gate.hpp"
#include "server_run.hpp"

namespace {

using server_run::server;

const std::string one_step_advice =
    "taking a number is a read of served_ and a write of one more, and both must happen in one "
    "critical section (one std::scoped_lock around both): with no lock, or with a lock for the "
    "read and another for the write, two handlers read the same value and hand out the same "
    "number (lesson: locks)";

const std::string one_at_a_time_advice =
    "start a std::thread per accepted client that runs handle(), and join them all after the "
    "accept loop (lesson: races, slide \"Threaded, with clients at once\")";

// Calls of the simulated request now held inside the gate.
int inside_gate() {
  const auto all = gate::visits();
  return static_cast<int>(
      std::count_if(all.begin(), all.end(), [](const gate::visit& v) { return !v.done; }));
}

// True when the simulated request was called by serve()'s own thread.
bool served_on_serve_thread() {
  const auto all = gate::visits();
  return std::any_of(all.begin(), all.end(),
                     [](const gate::visit& v) { return v.on_serve_thread; });
}

// Waits until every client of `s` got its answer.
void wait_for_answers(server& s, const std::string& what) {
  s.wait_until(
      [&s] {
        for (std::size_t i = 0; i < s.size(); ++i)
          if (!s.answered(i)) return false;
        return true;
      },
      what);
}

std::string seed_note() {
  return "seed " + std::to_string(lab::check::seed());
}

}  // namespace

TEST_CASE("answers a single client with number 1") {
  try {
    server s(1);
    const std::size_t c = s.connect();
    s.wait_until([&] { return s.answered(c); }, "serving a single client");
    const auto n = s.number(c);
    const bool one = n == 1L;
    CHECK_MESSAGE(one, "the first client got \"", s.at(c).got,
                  "\" instead of \"<1, took ... ms>\" (reply() writes that line for you)");
    s.wait_for_return("after serving its only client");
  } catch (const server_run::left_behind&) {
  }
}

// Round after round, a few clients connect at once and are held inside the
// simulated request until each of them is there (or, with the whole
// request under the lock, asleep on the server's mutex), then let go
// together. Every client must get a number of its own, 1 to N with no gap.
TEST_CASE("hands out unique and contiguous numbers to clients held inside the request together") {
  std::mt19937_64 random(lab::check::seed());
  const int rounds = lab::check::under_tsan() ? 4 : 10;
  std::vector<int> sizes;
  int total = 0;
  for (int r = 0; r < rounds; ++r) {
    sizes.push_back(std::uniform_int_distribution<int>(2, 4)(random));
    total += sizes.back();
  }
  try {
    server s(total);
    std::vector<int> round_of;  // per client
    for (int r = 0; r < rounds; ++r) {
      gate::set_shut(true);
      for (int k = 0; k < sizes[static_cast<std::size_t>(r)]; ++k) {
        s.connect();
        round_of.push_back(r + 1);
      }
      const int here = sizes[static_cast<std::size_t>(r)];
      s.wait_until(
          [&] {
            // A serve() that waits for a handler before accepting the next
            // client gets no further here: the next check names that.
            const bool more_to_accept = r + 1 < rounds;
            return served_on_serve_thread() || inside_gate() + s.asleep_on_mutex() >= here ||
                   (more_to_accept && s.serve_thread_joins());
          },
          std::to_string(here) + " clients connecting at once");
      gate::set_shut(false);
      wait_for_answers(s, std::to_string(here) + " clients let go together");
    }
    s.wait_for_return("after every client was answered");

    std::map<long, std::vector<int>> clients_of;  // number -> clients (1-based)
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto n = s.number(i);
      const bool numbered = n.has_value();
      CHECK_MESSAGE(numbered, seed_note(), ": client ", i + 1, " got \"", s.at(i).got,
                    "\" instead of \"<N, took ... ms>\"");
      if (!numbered) return;
      clients_of[*n].push_back(static_cast<int>(i) + 1);
    }
    const std::string how = std::to_string(total) + " clients in " + std::to_string(rounds) +
                            " rounds of 2 to 4 held inside the simulated request together (" +
                            seed_note() + ")";
    for (const auto& [n, who] : clients_of)
      if (who.size() > 1) {
        FAIL_CHECK("duplicate: of ", how, ", clients ", who[0], " and ", who[1], " (round ",
                   round_of[static_cast<std::size_t>(who[0] - 1)], ") both got number ", n, ": ",
                   one_step_advice);
        return;
      }
    for (long n = 1; n <= total; ++n)
      if (!clients_of.contains(n)) {
        FAIL_CHECK("gap: of ", how, ", no client got number ", n, " (the numbers must be 1 to ",
                   total, " with none left out)");
        return;
      }
    const bool only_expected = static_cast<int>(clients_of.size()) == total;
    CHECK_MESSAGE(only_expected, how, ": numbers beyond ", total, " were handed out");
  } catch (const server_run::left_behind&) {
  }
}

// Client 1 is held inside the simulated request; client 2 connects. A
// thread per client starts client 2's handler at once: in stage 1 it may
// then wait for the server's mutex (the whole request under the lock), in
// stage 2 it must come into the simulated request too. serve() is asked for
// 3 clients, so that a correct one is still accepting (not joining) while
// this is decided; the third connects at the end.
TEST_CASE("starts serving the next client while a handler is inside the simulated request") {
  try {
    server s(3);
    gate::set_shut(true);
    s.connect();
    s.wait_until([] { return !gate::visits().empty(); }, "one client connecting");
    if (served_on_serve_thread()) {
      FAIL_CHECK(
          "one client at a time: handle() ran on the thread that called serve(), so the "
          "next client is not even accepted until this one's whole request is over: ",
          one_at_a_time_advice);
      gate::set_shut(false);
      s.connect();
      s.connect();
      wait_for_answers(s, "serving three clients one after the other");
      s.wait_for_return("after serving three clients");
      return;
    }
    s.connect();
    // A stall is an answer here: client 2 got nowhere while client 1 was held.
    s.wait_or_stall(
        [&] { return inside_gate() >= 2 || s.asleep_on_mutex() > 0 || s.serve_thread_joins(); });
    const bool both_inside = inside_gate() >= 2;
    const bool waits_for_lock = !both_inside && s.asleep_on_mutex() > 0;
    if (!both_inside && !waits_for_lock)
      FAIL_CHECK(
          "one client at a time: while client 1 was inside the simulated request, client "
          "2 was not served at all (",
          std::string(s.serve_thread_joins()
                          ? "serve() was in a join() of client 1's handler thread"
                          : "no handler of it got anywhere"),
          "): ", one_at_a_time_advice);
    else if (waits_for_lock && lab::check::stage() >= 2)
      FAIL_CHECK(
          "the lock is held across the simulated request: clients are served one at a "
          "time. While client 1 was held inside simulate_request(), client 2's handler "
          "thread slept waiting for the server's mutex. Take the number under the lock, "
          "let the lock go, and only then call simulate_request() (lesson: locks, slide "
          "\"The counting server, locked briefly\")");
    gate::set_shut(false);
    s.connect();
    wait_for_answers(s, "three clients let go");
    s.wait_for_return("after serving three clients");
  } catch (const server_run::left_behind&) {
  }
}

// Every client is held inside the simulated request while serve() has
// accepted them all: a serve() that waits for its handlers is now asleep
// (in join()), one that does not has returned. After the gate opens, every
// handler thread must have ended before serve() returned, and none may be
// detached.
TEST_CASE("returns from serve only after every handler thread has ended") {
  const int clients = 3;
  try {
    server s(clients);
    gate::set_shut(true);
    for (int k = 0; k < clients; ++k) s.connect();
    s.wait_until(
        [&] { return served_on_serve_thread() || inside_gate() + s.asleep_on_mutex() >= clients; },
        std::to_string(clients) + " clients connecting at once");
    // serve() has accepted every client: it returns (it does not wait for
    // its handlers), or it waits, in a join() or some other way (a stall).
    if (!served_on_serve_thread())
      s.wait_or_stall([&] { return s.returned() || s.serve_thread_joins(); });
    if (s.returned() && inside_gate() > 0) {
      FAIL_CHECK("serve() returned while ", inside_gate(), " of its ", clients,
                 " clients were still inside their requests: its handler threads run on with "
                 "nobody waiting for them (detached, or never joined), and may use the server "
                 "after it is gone. Keep every std::thread and join() them all before serve() "
                 "returns (lesson: threads-processes)");
      s.abandon();
      return;
    }
    gate::set_shut(false);
    wait_for_answers(s, std::to_string(clients) + " clients let go");
    s.wait_for_return("after every client was answered");
    std::vector<long> handlers;
    for (const auto& v : gate::visits())
      if (!v.on_serve_thread) handlers.push_back(v.tid);
    const auto& ended = s.run().ends_at_return;
    int running = 0, detached = 0;
    for (long tid : handlers) {
      const auto end = std::find_if(ended.begin(), ended.end(),
                                    [tid](const gate::thread_end& e) { return e.tid == tid; });
      if (end == ended.end())
        ++running;
      else if (end->detached)
        ++detached;
    }
    if (detached > 0) {
      FAIL_CHECK(detached,
                 " handler threads were detached: nothing in serve() can know when a "
                 "detached thread is done with the server. Keep every std::thread and join() "
                 "them all before serve() returns (lesson: threads-processes)");
      s.abandon();
    } else if (running > 0) {
      FAIL_CHECK(running, " of ", handlers.size(),
                 " handler threads were still running when "
                 "serve() returned (detached, or never joined): join() every handler thread "
                 "before returning");
      s.abandon();
    }
  } catch (const server_run::left_behind&) {
  }
}

// Client 1 hangs up (a reset) while it is inside the simulated request, so
// its reply fails; clients 2 and 3 must still be served.
TEST_CASE("keeps counting after a client hangs up before its answer") {
  try {
    server s(3);
    gate::set_shut(true);
    const std::size_t gone = s.connect();
    s.wait_until([] { return !gate::visits().empty(); }, "one client connecting");
    s.hang_up(gone);
    gate::set_shut(false);
    const std::string what = "after a client hung up before its answer";
    const std::size_t second = s.connect();
    s.wait_until([&] { return s.answered(second); }, what);
    const std::size_t third = s.connect();
    s.wait_until([&] { return s.answered(third); }, what);
    const auto a = s.number(second), b = s.number(third);
    const bool both = a.has_value() && b.has_value();
    CHECK_MESSAGE(both, what, ", the next two clients got \"", s.at(second).got, "\" and \"",
                  s.at(third).got, "\" instead of \"<N, took ... ms>\" each");
    if (both)
      CHECK_MESSAGE(*a != *b, what, ", the next two clients both got number ", *a, ": ",
                    one_step_advice);
    s.wait_for_return(what + " and two more were served");
  } catch (const server_run::left_behind&) {
  }
}
