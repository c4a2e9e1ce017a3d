// The echo server demos: each server of lab/demos/servers against real
// clients on the loopback, with the figures that show what its design does.
//
// lesson: blocking, slide "Try it"; lesson: select, slides "Standard input as
// a stop button" and "poll, epoll, kqueue, IOCP"; lesson: threads-processes,
// slides "A thread per client" and "A process per client"; lesson:
// event-loops, slides "epoll" and "An echo server of coroutines"; lesson:
// green-threads, slide "A server of green threads"
//
// Every demo runs the Shakespeare test: a big client streams megabytes
// (echoed 16 bytes per recv()), and once the server is busy with it, a small
// client says "hi". Does "hi" wait for the big one? Then, for servers that
// serve clients side by side, a request that computes (does one client's
// computation hold up another?), and for the select, poll and epoll servers,
// more idle clients than select() can watch.
//
// Each conclusion is drawn from the run's own timestamps (which answer came
// first), never from how fast the machine is; the figures are printed and
// reported (report_metric) for lab bench.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <lab/net/select_set.hpp>

#include "demo.hpp"
#include "echo_clients.hpp"
#include "servers/server.hpp"
#include "servers/server_process.hpp"

namespace lab::demos {
namespace {

// What a server is expected to show, by its design.
struct echo_plan {
  const char* server;
  const char* design;         // how it serves, for the header line
  bool side_by_side;          // serves a second client while busy with the first
  bool computes_in_the_loop;  // one thread for everybody: a computation stalls the rest
  bool crowd;                 // run the test with more clients than select() can watch
  bool refuses_above_fd_setsize;
};

const demo_server& server_named(const std::string& name) {
  return server_registry().at(name);
}

server_options options_of(const echo_plan& plan, const params& p) {
  server_options options;
  options.chunk = static_cast<std::size_t>(p.number("chunk"));
  if (plan.side_by_side) options.compute = std::chrono::milliseconds(p.number("compute_ms"));
  return options;
}

std::string megabytes(std::size_t bytes) {
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / (1 << 20));
}

// The big client streams; once `mark` bytes are back, the small client says
// "hi". Prints both and whether the lesson's claim held.
void shakespeare(const echo_plan& plan, std::uint16_t port, std::size_t bytes, double alone_ms) {
  const std::size_t mark = std::min<std::size_t>(64 << 10, bytes / 4);
  fmt::print(
      "\nThe big client streams {} (\"Shakespeare\") and reads its echo as it comes; once {} KB\n"
      "are back, the small client connects and says \"hi\".\n",
      megabytes(bytes), mark >> 10);
  std::fflush(stdout);
  big_client big(port, bytes, mark);
  big.wait_for_mark();
  const exchange small = small_client(port, "hi\n");
  const big_client::result streamed = big.finish();
  const double wait = small.wait_ms();
  fmt::print("  big client:   {} echoed {} in {:.0f} ms\n", megabytes(streamed.echoed),
             streamed.intact ? "intact" : "DAMAGED", ms_between(streamed.started, streamed.done));
  fmt::print("  small client: \"hi\" came back after {:.3f} ms, {:.1f}x its round trip alone\n",
             wait, wait / alone_ms);
  report_metric("small_wait_ms", wait, "ms");
  report_metric("small_wait_ratio", wait / alone_ms, "x");
  // Two facts that do not depend on which client thread the scheduler wakes
  // first. A server that serves one client at a time cannot answer the small
  // client before it has read the big one's end of stream, which the big
  // client sends only after its last byte: so an answer after `sent_all` is
  // what such a server gives. An answer before the big client's last echoed
  // byte arrived was given while the big one was still being served.
  const bool after_big_hung_up = small.answered >= streamed.sent_all;
  const bool during_big = small.answered < streamed.done;
  if (!streamed.intact || !small.echoed) {
    fmt::print("  The echo was not complete: the server lost bytes. Nothing to conclude.\n");
  } else if (!plan.side_by_side && after_big_hung_up) {
    fmt::print(
        "  Its echo came only after the big client had sent its last byte and hung up its\n"
        "  side: the server serves one client at a time, and the small one waited in the\n"
        "  backlog for the big one to finish.\n");
  } else if (plan.side_by_side && during_big) {
    fmt::print(
        "  Its echo came back while the big client was still streaming ({:.0f} ms before the\n"
        "  big one finished): the server served both side by side.\n",
        ms_between(small.answered, streamed.done));
  } else {
    fmt::print(
        "  This run did not show the effect: the small echo came {} the big client {}.\n"
        "  (On a very busy machine the order can flip; run it again.)\n",
        plan.side_by_side ? "after" : "before",
        plan.side_by_side ? "had its last byte back" : "hung up");
  }
}

// Client A asks for a long computation; shortly after, client B says "hi".
void long_request(const echo_plan& plan, std::uint16_t port, std::chrono::milliseconds compute) {
  fmt::print(
      "\nClient A sends '#', a request that costs {} ms of computing; 20 ms later client B\n"
      "connects and says \"hi\".\n",
      compute.count());
  std::fflush(stdout);
  exchange a;
  std::thread first([&] { a = small_client(port, "#\n"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const exchange b = small_client(port, "hi\n");
  first.join();
  fmt::print("  A's answer after {:.1f} ms; B's after {:.1f} ms\n", a.wait_ms(), b.wait_ms());
  report_metric("waited_for_computation_ms", b.wait_ms(), "ms");
  // A's computation cannot end before `compute` has passed since A sent its
  // request (wall time is never less than CPU time): an answer to B before
  // then was certainly given while A's request was still computing.
  const auto earliest_end = a.sent + compute;
  const bool b_served_meanwhile = b.answered < earliest_end;
  if (!a.echoed || !b.echoed) {
    fmt::print("  An echo did not come back whole: nothing to conclude.\n");
  } else if (plan.computes_in_the_loop && !b_served_meanwhile) {
    fmt::print(
        "  B's echo came only once A's computation was over: while the loop computed for A,\n"
        "  nobody else was served. Events help with waiting, not with computing.\n");
  } else if (!plan.computes_in_the_loop && b_served_meanwhile) {
    fmt::print(
        "  B's echo came while A's request was still computing: A's computation ran in A's\n"
        "  own {}, beside B's.\n",
        plan.server == std::string("echo.process_per_client") ? "process" : "thread");
  } else {
    fmt::print("  This run did not show the effect: B's echo came {} A's computation could end.\n",
               b_served_meanwhile ? "before" : "after");
  }
}

// More idle clients than select() can watch, then one byte from each.
void crowd(const echo_plan& plan, std::uint16_t port, long clients) {
  fmt::print("\n{} clients connect and stay connected; then each sends one byte.\n", clients);
  std::fflush(stdout);
  const crowd_result got = idle_crowd(port, clients, std::chrono::milliseconds(2000)).result();
  fmt::print("  {} connected: {} echoed, {} turned away, {} silent\n", got.connected, got.echoed,
             got.turned_away, got.silent);
  if (!got.connect_error.empty())
    fmt::print("  (connecting stopped early: {})\n", got.connect_error);
  report_metric("crowd_echoed", static_cast<double>(got.echoed), "clients");
  const bool reached_the_limit = got.connected > net::select_limit_fds;
  if (!reached_the_limit) {
    fmt::print("  Fewer clients than select()'s limit of {}: try crowd=1100.\n",
               net::select_limit_fds);
  } else if (plan.refuses_above_fd_setsize && got.turned_away > 0 &&
             got.echoed + got.turned_away == got.connected) {
    fmt::print(
        "  The server turned away every client whose descriptor it could not put in an fd_set\n"
        "  (numbers {} and up) and went on serving the others, as it said above.\n",
        net::select_limit_fds);
  } else if (!plan.refuses_above_fd_setsize && got.echoed == got.connected) {
    fmt::print("  Every one was echoed: {} has no limit at {} descriptors.\n",
               plan.server == std::string("echo.poll") ? "poll()" : "epoll", net::select_limit_fds);
  } else {
    fmt::print("  This run did not show what the lesson says: see the counts above.\n");
  }
}

int run_echo_demo(const echo_plan& plan, const params& p) {
  const server_options options = options_of(plan, p);
  server_process server(server_named(plan.server), options,
                        static_cast<std::uint16_t>(p.number("port")));
  fmt::print("{} listening on 127.0.0.1:{}: {}, {} bytes per recv()\n", plan.server, server.port(),
             plan.design, options.chunk);
  const double alone = median_round_trip_ms(server.port(), 5);
  fmt::print("The small client alone: \"hi\" comes back in {:.3f} ms (median of 5).\n", alone);
  report_metric("round_trip_ms", alone, "ms");
  shakespeare(plan, server.port(), static_cast<std::size_t>(p.number("big_kb")) << 10, alone);
  if (plan.side_by_side && options.compute.count() > 0)
    long_request(plan, server.port(), options.compute);
  if (plan.crowd && p.number("crowd") > 0) crowd(plan, server.port(), p.number("crowd"));
  std::fflush(stdout);
  const int status = server.stop();
  if (status != 0) {
    fmt::print("\nThe server did not stop cleanly (status {}).\n", status);
    return 1;
  }
  fmt::print("\nTo try it yourself: lab serve {}\n", plan.server);
  return 0;
}

std::vector<param_spec> echo_params(const echo_plan& plan) {
  std::vector<param_spec> specs = {param::number("port", 0, {0, 65535}),
                                   param::number("chunk", 16, {1, 65536}),
                                   param::number("big_kb", 4096, {16, 65536})};
  if (plan.side_by_side) specs.push_back(param::number("compute_ms", 300, {0, 5000}));
  if (plan.crowd) specs.push_back(param::number("crowd", 1100, {0, 4000}));
  return specs;
}

demo echo_demo(const echo_plan& plan, std::string summary, std::string limits = {}) {
  return {.name = plan.server,
          .summary = std::move(summary),
          .params = echo_params(plan),
          .run = [plan](const params& p) { return run_echo_demo(plan, p); },
          .limits = std::move(limits)};
}

constexpr echo_plan blocking_plan{
    "echo.blocking", "one client at a time", false, false, false, false};
constexpr echo_plan select_plan{
    "echo.select", "a select() loop with a reply queue per client", true, true, true, true};
constexpr echo_plan poll_plan{"echo.poll", "the same loop on poll()", true, true, true, false};
constexpr echo_plan epoll_plan{"echo.epoll", "the same loop on epoll", true, true, true, false};
constexpr echo_plan coroutine_plan{
    "echo.coroutine", "a task per client on lab's event loop", true, true, true, false};
constexpr echo_plan green_plan{
    "echo.green", "a green thread per client running blocking code", true, true, true, false};
constexpr echo_plan thread_plan{
    "echo.thread_per_client", "a thread per client", true, false, false, false};
constexpr echo_plan process_plan{
    "echo.process_per_client", "a fork()ed process per client", true, false, false, false};

const registration blocking_demo{
    echo_demo(blocking_plan, "the blocking echo server: a small client waits for a big one")};
const registration select_demo{echo_demo(
    select_plan,
    "the select() echo server: small clients no longer wait; a computation still stalls all; "
    "its limit at 1024 descriptors",
    R"({"open_files": 4096})")};
const registration poll_demo{
    echo_demo(poll_plan, "the echo server on poll(): as select, without the limit at 1024",
              R"({"open_files": 4096})")};
const registration epoll_demo{
    echo_demo(epoll_plan, "the echo server on epoll: as select, without the limit at 1024",
              R"({"open_files": 4096})")};
const registration echo_coroutine_demo{echo_demo(
    coroutine_plan,
    "the echo server of coroutines: code shaped like the blocking one, served like epoll",
    R"({"open_files": 4096})")};
const registration echo_green_demo{echo_demo(
    green_plan,
    "the echo server of green threads: the blocking loop, unchanged, on one thread",
    R"({"open_files": 4096})")};
const registration thread_demo{echo_demo(
    thread_plan,
    "the echo server with a thread per client: nobody waits, not even for a computation")};
const registration process_demo{echo_demo(
    process_plan, "the echo server with a process per client: nobody waits, each client isolated")};

}  // namespace
}  // namespace lab::demos
