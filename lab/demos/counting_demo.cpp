// The counting server demos: clients that arrive together, and the numbers
// they are handed.
//
// lesson: races, slides "The handler" and "Threaded, with clients at once";
// lesson: locks, slide "Why scoped locking"; lesson: green-threads, slides
// "The counting server, green" and "A wait inside the update"
//
// `clients` clients connect at the same moment (a start gate) and each reads
// its "<N, took X ms>". One more client comes alone afterwards: its N says
// how many requests the counter recorded. The threaded server hands the same
// N to several clients (the updates of the others are lost); the naive and
// the locked ones hand out 1, 2, 3, ... but serve the clients one after
// another. With rounds=R the race is run R times, each against a fresh
// server, and the rounds with duplicates are counted.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>
#include <thread>
#include <vector>

#include <lab/net/socket.hpp>

#include "demo.hpp"
#include "echo_clients.hpp"  // clock_type, ms_between
#include "servers/server.hpp"
#include "servers/server_process.hpp"
#include "spin_gate.hpp"

namespace lab::demos {
namespace {

// What one client was told.
struct answer {
  long number = 0;       // 0: no well-formed answer
  std::string text;      // the line as it came
  double waited_ms = 0;  // from connecting to the answer
};

answer ask(std::uint16_t port) {
  answer a;
  const auto start = clock_type::now();
  const unique_fd socket = net::connect_loopback(port);
  char buffer[128];
  std::size_t got = net::recv_exact(socket.get(), buffer);  // to the end: the server hangs up
  a.waited_ms = ms_between(start, clock_type::now());
  a.text.assign(buffer, got);
  while (!a.text.empty() && a.text.back() == '\n') a.text.pop_back();
  static const std::regex shape(R"(<(\d+), took [0-9.]+ ms>)");
  std::smatch match;
  if (std::regex_match(a.text, match, shape)) a.number = std::stol(match[1]);
  return a;
}

// One race: `clients` clients at once, then one alone.
struct round_result {
  std::vector<answer> answers;  // in the order the clients were started
  answer last;                  // the client that came alone afterwards
  long duplicates = 0;          // answers whose number another answer had too
  bool one_each = false;        // numbers 1..clients, each once
  double longest_wait_ms = 0;
  double answer_span_ms = 0;  // from the first answer to the last
};

round_result race_round(const demo_server& server, const server_options& options, long clients,
                        std::uint16_t port) {
  server_process process(server, options, port);
  round_result r;
  r.answers.resize(static_cast<std::size_t>(clients));
  {
    spin_gate start(clients);
    std::vector<std::thread> threads;
    for (long i = 0; i < clients; ++i)
      threads.emplace_back([&, i] {
        start.arrive_and_wait();  // every client connects at the same moment
        r.answers[static_cast<std::size_t>(i)] = ask(process.port());
      });
    for (auto& thread : threads) thread.join();
  }
  r.last = ask(process.port());
  std::map<long, long> times_given;
  double first_ms = 1e300, last_ms = 0;
  for (const answer& a : r.answers) {
    first_ms = std::min(first_ms, a.waited_ms);
    last_ms = std::max(last_ms, a.waited_ms);
    ++times_given[a.number];
    r.longest_wait_ms = std::max(r.longest_wait_ms, a.waited_ms);
  }
  r.answer_span_ms = last_ms - first_ms;
  for (const auto& [number, times] : times_given)
    if (times > 1) r.duplicates += times;
  r.one_each = static_cast<long>(times_given.size()) == clients &&
               times_given.begin()->first == 1 && times_given.rbegin()->first == clients;
  return r;
}

void print_round(const round_result& r, long clients) {
  fmt::print("{} clients connect at the same moment:\n", clients);
  std::vector<answer> sorted = r.answers;
  std::sort(sorted.begin(), sorted.end(),
            [](const answer& a, const answer& b) { return a.waited_ms < b.waited_ms; });
  for (const answer& a : sorted)
    fmt::print("  {:<24} (answered after {:.0f} ms)\n", a.text.empty() ? "(no answer)" : a.text,
               a.waited_ms);
  const long recorded = r.last.number - 1;
  fmt::print("One more client, alone afterwards: {}\n", r.last.text);
  fmt::print("So the counter recorded {} of the {} requests: {} update{} lost.\n", recorded,
             clients, clients - recorded, clients - recorded == 1 ? "" : "s");
}

// What a server's design makes it show, for the demo's conclusion.
enum class expect {
  one_after_another,    // unique numbers, the clients served in turn (naive, locked)
  duplicates,           // the race: numbers handed out twice (threaded, green_wait)
  unique_side_by_side,  // unique numbers without a lock, clients overlapping (event_loop, green)
};

int run_counting(const std::string& name, expect expected, const params& p) {
  const demo_server& server = server_registry().at(name);
  server_options options;
  options.work = std::chrono::milliseconds(p.number("work_ms"));
  const long clients = p.number("clients");
  const long rounds = p.number("rounds");
  const auto port = static_cast<std::uint16_t>(p.number("port"));
  fmt::print("{}: {}; each request works {} ms between reading the counter and writing it\n\n",
             name, server.summary, options.work.count());
  std::fflush(stdout);
  long rounds_with_duplicates = 0, rounds_one_each = 0;
  round_result first;
  for (long round = 0; round < rounds; ++round) {
    const round_result r = race_round(server, options, clients, port);
    if (round == 0) {
      print_round(r, clients);
      first = r;
    }
    rounds_with_duplicates += r.duplicates > 0 ? 1 : 0;
    rounds_one_each += r.one_each ? 1 : 0;
  }
  if (rounds > 1)
    fmt::print("\nOver {} rounds: duplicates in {}, numbers 1 to {} each once in {}.\n", rounds,
               rounds_with_duplicates, clients, rounds_one_each);
  report_metric("rounds_with_duplicates", static_cast<double>(rounds_with_duplicates), "rounds");
  report_metric("lost_updates_first_round", static_cast<double>(clients - (first.last.number - 1)),
                "updates");
  fmt::print("\n");
  // Served one at a time, the answers are at least one request's work apart
  // (the server cannot answer the next before its sleep is over): a shorter
  // span from the first answer to the last proves they were served together.
  const double one_after_another_ms = static_cast<double>((clients - 1) * options.work.count());
  const bool side_by_side = expected == expect::unique_side_by_side;
  if (side_by_side && rounds_one_each == rounds && first.answer_span_ms < one_after_another_ms) {
    fmt::print(
        "Every client got a number of its own, without a lock, and they were served side by\n"
        "side: all {} answers came within {:.0f} ms (one after another takes at least {:.0f} ms).\n"
        "One thread runs one handler at a time, and no handler gives way between reading the\n"
        "counter and writing it: its wait for the work comes after.\n",
        clients, first.answer_span_ms, one_after_another_ms);
  } else if (expected == expect::duplicates && rounds_with_duplicates == rounds) {
    fmt::print(
        "Several clients got the same number: their handlers all read the counter before any\n"
        "of them wrote it back, and each wrote the same value. That is the race.\n");
  } else if (expected == expect::one_after_another && rounds_one_each == rounds) {
    fmt::print(
        "Every client got a number of its own. The price: they were served one after another\n"
        "(the last waited {:.0f} ms for {} requests of {} ms each).\n",
        first.longest_wait_ms, clients, options.work.count());
  } else {
    fmt::print("This run did not show what the lesson says: see the numbers above.\n");
  }
  fmt::print("\nTo try it yourself: lab serve {}\n", name);
  return 0;
}

demo counting_demo(const std::string& name, expect expected, std::string summary) {
  return {
      .name = name,
      .summary = std::move(summary),
      .params = {param::number("port", 0, {0, 65535}), param::number("clients", 8, {2, 64}),
                 param::number("work_ms", 50, {10, 2000}), param::number("rounds", 1, {1, 100})},
      .run = [name, expected](const params& p) { return run_counting(name, expected, p); }};
}

const registration counting_naive_demo{counting_demo(
    "counting.naive", expect::one_after_another, "the counting server one connection at a time: every number unique, slowly")};
const registration counting_threaded_demo{
    counting_demo("counting.threaded", expect::duplicates,
                  "the counting server with a thread per connection: numbers handed out twice")};
const registration counting_locked_demo{counting_demo(
    "counting.locked", expect::one_after_another, "the counting server with its handler under a mutex: unique again")};
const registration counting_event_loop_demo{counting_demo(
    "counting.event_loop", expect::unique_side_by_side,
    "the counting server on one epoll thread: unique numbers without a lock, clients overlap")};

const registration counting_green_demo{counting_demo(
    "counting.green", expect::unique_side_by_side,
    "the counting server on green threads, no wait inside the update: unique without a lock")};
const registration counting_green_wait_demo{counting_demo(
    "counting.green_wait", expect::duplicates,
    "the counting server on green threads, a wait between read and write: the race is back")};

}  // namespace
}  // namespace lab::demos
