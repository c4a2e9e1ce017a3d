// Demos of green threads (lab/green.hpp).
//
// lesson: green-threads
//
//   green.scheduler  three greenlets "download" with a blocking-looking call
//                    deep inside plain functions; a trace shows them taking
//                    turns only at their waits, all done in about one delay.
//   green.timeout    requests of growing length, each inside a timeout
//                    scope: the slow one is cut off at its deadline, the
//                    others finish.
//   green.blocking_freezes  ten greenlets: nine tick, one calls the C
//                    library's sleep(1); every greenlet stops for a second,
//                    and the hub's watchdog names the one that blocked.
//   green.patched_sleep     the same program after lab::green::patch_all():
//                    sleep(1) is a green sleep now, and nobody stops.
//   green.spawn_get  spawned requests against a real counting server, all
//                    done in about the time of one; one request fails, and
//                    its exception comes back through its get().
#include <fmt/core.h>
#include <lab/green.hpp>
#include <lab/green_patch.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>

#include "demo.hpp"
#include "machine_load.hpp"
#include "servers/server.hpp"
#include "servers/server_process.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;
using ms = std::chrono::duration<double, std::milli>;

class trace {
 public:
  void say(const std::string& who, const std::string& what) {
    fmt::print("  {:>6.0f} ms  {:<8} {}\n", ms(clock_type::now() - start_).count(), who, what);
  }

 private:
  clock_type::time_point start_ = clock_type::now();
};

// Plain functions, the way blocking code is written: the wait is three
// calls down, and nothing on the way knows about greenlets.
void wait_for_network(std::chrono::milliseconds delay) { green::sleep(delay); }
std::string read_response(const std::string& url, std::chrono::milliseconds delay) {
  wait_for_network(delay);
  return "<contents of " + url + ">";
}
std::string download(const std::string& url, std::chrono::milliseconds delay) {
  return read_response(url, delay);
}

int scheduler_demo(const params& p) {
  const int count = static_cast<int>(p.number("greenlets"));
  const auto delay = std::chrono::milliseconds(p.number("delay_ms"));
  const load_watch watch;  // what else ran on the machine meanwhile
  trace t;
  fmt::print("{} greenlets, each downloading in {} steps of {} ms; the wait is three plain calls deep:\n\n",
             count, 3, delay.count());
  const auto start = clock_type::now();
  std::vector<green::greenlet<int>> greenlets;
  for (int i = 0; i < count; ++i) {
    const std::string name = fmt::format("g{}", i + 1);
    greenlets.push_back(green::spawn_named(name, [&t, name, delay] {
      int pages = 0;
      for (int step = 1; step <= 3; ++step) {
        t.say(name, fmt::format("runs: asks for page {}, then waits", step));
        download(fmt::format("/page/{}", step), delay);
        ++pages;
      }
      t.say(name, "ends");
      return pages;
    }));
  }
  t.say("main", "spawned them all; none has run yet. main now waits for them");
  int pages = 0;
  for (auto& g : greenlets) pages += g.get();
  const double elapsed = ms(clock_type::now() - start).count();
  const double one_alone = 3 * static_cast<double>(delay.count());
  fmt::print("\n{} pages in {:.0f} ms; one greenlet alone needs {:.0f} ms, all {} one after the other {:.0f} ms.\n",
             pages, elapsed, one_alone, count, one_alone * count);
  if (count > 1 && elapsed > one_alone * count * 0.75) {
    const load_figures machine = watch.figures();
    fmt::print("On this run the waits did not overlap as they should (load average {:.2f}; other\n"
               "programs kept {:.1f} of {} cores busy): run it again on a quieter machine.\n",
               machine.load_average, machine.others_busy, machine.usable_cores);
  } else {
    fmt::print("Each greenlet ran until its wait, then the hub switched to the next one that could go\n"
               "on: they took turns only at their waits, and the waits overlapped. One thread, no locks.\n");
  }
  return pages == 3 * count ? 0 : 1;
}

int timeout_demo(const params& p) {
  const auto limit = std::chrono::milliseconds(p.number("limit_ms"));
  const std::vector<long> delays = {50, 100, 200, 1000};
  trace t;
  fmt::print("Four requests, each inside a {} ms timeout scope:\n\n", limit.count());
  std::vector<green::greenlet<std::string>> requests;
  for (long delay : delays) {
    const std::string name = fmt::format("{} ms", delay);
    requests.push_back(green::spawn_named(name, [&t, name, delay, limit] {
      green::timeout deadline(limit, fmt::format("the {} request", name));
      t.say(name, "starts");
      const auto body = download("/slow", std::chrono::milliseconds(delay));
      t.say(name, "got its response");
      return body;
    }));
  }
  int finished = 0, cut = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    try {
      requests[i].get();
      ++finished;
    } catch (const green::timed_out& e) {
      ++cut;
      t.say(requests[i].name(), fmt::format("cut off: {}", e.what()));
    }
  }
  const int expected_cut = static_cast<int>(
      std::count_if(delays.begin(), delays.end(), [&](long d) { return d > limit.count(); }));
  fmt::print("\n{} finished, {} cut off at the deadline (expected {}). The timed_out exception was raised\n"
             "inside the slow greenlet, at its wait, so it unwound from a consistent state; the others\n"
             "never noticed.\n",
             finished, cut, expected_cut);
  return 0;
}

// Nine tickers and one greenlet that calls the C library's sleep(1), as
// old code would. Returns the longest gap between two ticks, in ms.
double tickers_beside_a_sleeper(std::chrono::milliseconds tick, int rounds) {
  const auto start = clock_type::now();
  auto last_tick = start;
  double longest_gap = 0;
  std::vector<green::greenlet<void>> greenlets;
  for (int k = 1; k <= 9; ++k)
    greenlets.push_back(green::spawn_named(fmt::format("t{}", k), [&, k] {
      for (int round = 0; round < rounds; ++round) {
        const auto now = clock_type::now();
        if (k == 1) fmt::print("\n  {:>6.0f} ms ", ms(now - start).count());
        fmt::print(" t{}", k);
        longest_gap = std::max(longest_gap, ms(now - last_tick).count());
        last_tick = now;
        green::sleep(tick);
      }
    }));
  greenlets.push_back(green::spawn_named("sleeper", [&] {
    green::sleep(tick * 3);
    fmt::print("   <- the sleeper calls sleep(1)");
    std::fflush(stdout);
    ::sleep(1);  // the C library's, unless patched
    fmt::print("\n");
    std::fflush(stdout);  // the hub's watchdog may speak next, on stderr
  }));
  for (auto& g : greenlets) g.join();
  fmt::print("\n\n");
  return longest_gap;
}

bool watchdog_named_the_sleeper() {
  const auto seen = green::stalls();
  return std::any_of(seen.begin(), seen.end(), [](const green::stall_seen& s) { return s.greenlet == "sleeper"; });
}

int blocking_freezes_demo(const params& p) {
  const auto tick = std::chrono::milliseconds(p.number("tick_ms"));
  green::unpatch_all();
  fmt::print("Nine greenlets tick every {} ms; a tenth calls sleep(1), the C library's blocking call:", tick.count());
  const double gap = tickers_beside_a_sleeper(tick, static_cast<int>(1500 / tick.count()));
  const bool named = watchdog_named_the_sleeper();
  fmt::print("Longest gap between two ticks: {:.0f} ms.\n", gap);
  if (gap >= 1000 && named)
    fmt::print("sleep(1) blocked the thread, and with it every greenlet, for a whole second; the hub's\n"
               "watchdog named the sleeper. Next: the same program patched (green.patched_sleep).\n");
  else
    fmt::print("Unexpected: a gap of {:.0f} ms{}: this is a bug in the lab.\n", gap,
               named ? "" : " and the watchdog did not name the sleeper");
  return gap >= 1000 && named ? 0 : 1;
}

int patched_sleep_demo(const params& p) {
  const auto tick = std::chrono::milliseconds(p.number("tick_ms"));
  green::patch_all();  // gevent's monkey.patch_all(): sleep(1) is a green sleep from now on
  fmt::print("The same ten greenlets after lab::green::patch_all():");
  const double gap = tickers_beside_a_sleeper(tick, static_cast<int>(1500 / tick.count()));
  green::unpatch_all();
  fmt::print("Longest gap between two ticks: {:.0f} ms (a tick is {} ms).\n", gap, tick.count());
  if (gap < 1000 && !watchdog_named_the_sleeper())
    fmt::print("The sleeper's sleep(1) went through the hub: it waited a second while the others went\n"
               "on ticking. The code did not change; the call underneath it did.\n");
  else
    fmt::print("The ticks stopped for {:.0f} ms: {}.\n", gap,
               gap >= 1000 ? "the patch did not take: this is a bug in the lab"
                           : "this machine was too busy to keep the ticks on time");
  return gap < 1000 ? 0 : 1;
}

// A loopback port nobody listens on: one the OS just gave and took back.
std::uint16_t a_closed_port() {
  const net::listener probe = net::listen_loopback();
  return probe.port;
}

// The answer of one request to the counting server (patched connect and
// recv: they wait as a greenlet).
std::string ask_counting_server(std::uint16_t port) {
  const unique_fd socket = net::connect_loopback(port);
  char buffer[128];
  std::string answer(buffer, net::recv_exact(socket.get(), buffer));  // to the server's hang-up
  while (!answer.empty() && answer.back() == '\n') answer.pop_back();
  return answer;
}

int spawn_get_demo(const params& p) {
  const int count = static_cast<int>(p.number("requests"));
  server_options options;
  options.work = std::chrono::milliseconds(p.number("work_ms"));
  // Forked before this process starts anything: the server is a child of its own.
  server_process server(server_registry().at("counting.threaded"), options);
  const std::uint16_t closed = a_closed_port();
  fmt::print("The threaded counting server (counting.threaded) listens on 127.0.0.1:{}; each request\n"
             "takes {} ms there. {} greenlets ask it for a number; one more asks port {}, where\n"
             "nobody listens. connect() and recv() are the C library's, patched to wait as greenlets.\n\n",
             server.port(), options.work.count(), count, closed);
  std::fflush(stdout);
  green::patch_all();
  trace t;
  const auto start = clock_type::now();
  std::vector<green::greenlet<std::string>> requests;
  for (int i = 1; i <= count + 1; ++i) {
    const bool broken = i == count + 1;
    const std::string name = broken ? "broken" : fmt::format("r{}", i);
    const std::uint16_t port = broken ? closed : server.port();
    requests.push_back(green::spawn_named(name, [&t, name, port] {
      t.say(name, fmt::format("connects to port {}", port));
      std::string answer = ask_counting_server(port);
      t.say(name, "got " + answer);
      return answer;
    }));
  }
  t.say("main", "spawned them all; now get() from each, in order");
  int answered = 0, failed = 0;
  std::set<std::string> numbers;  // the distinct "<N" the answers start with
  for (const auto& request : requests) {
    try {
      const std::string answer = request.get();
      numbers.insert(answer.substr(0, answer.find(',')));
      ++answered;
    } catch (const std::exception& e) {
      ++failed;
      t.say("main", fmt::format("{}.get() threw: {}", request.name(), e.what()));
    }
  }
  const double elapsed = ms(clock_type::now() - start).count();
  green::unpatch_all();
  const double one_after_another = static_cast<double>(count * options.work.count());
  fmt::print("\n{} answers and {} exception in {:.0f} ms; one request after the other would take\n"
             "at least {:.0f} ms.\n",
             answered, failed, elapsed, one_after_another);
  if (answered != count || failed != 1) {
    fmt::print("Not what the lesson says: {} answers were expected and 1 exception.\n", count);
    return 1;
  }
  if (elapsed < one_after_another) {
    fmt::print("The requests waited side by side, and the failed one did not disturb the others:\n"
               "its exception was kept in its greenlet and raised again by its get(), as gevent does.\n");
    if (count > 1 && numbers.size() < static_cast<std::size_t>(count))
      fmt::print("{} answers, {} distinct number{}: the threaded server's race of lesson races,\n"
                 "which requests that really arrive together bring out.\n",
                 count, numbers.size(), numbers.size() == 1 ? "" : "s");
  } else {
    fmt::print("The exception came back through get(), but the requests did not overlap on this\n"
               "run (the machine was busy?): run it again.\n");
  }
  return 0;
}

const registration scheduler_registration{
    {.name = "green.scheduler",
     .summary = "greenlets take turns only at their waits, which can be deep inside plain calls",
     .params = {param::number("greenlets", 3, {1, 50}), param::number("delay_ms", 100, {1, 2000})},
     .run = scheduler_demo}};
const registration timeout_registration{
    {.name = "green.timeout",
     .summary = "a timeout scope cuts a slow greenlet off at its deadline; the others finish",
     .params = {param::number("limit_ms", 300, {10, 5000})},
     .run = timeout_demo}};
const registration blocking_freezes_registration{
    {.name = "green.blocking_freezes",
     .summary = "one greenlet calls the C library's sleep(1) and every greenlet stops; the watchdog names it",
     .params = {param::number("tick_ms", 100, {20, 500})},
     .run = blocking_freezes_demo}};
const registration spawn_get_registration{
    {.name = "green.spawn_get",
     .summary = "spawned requests to a real server finish in about the time of one; a failure comes back through get()",
     .params = {param::number("requests", 3, {1, 50}), param::number("work_ms", 200, {10, 2000})},
     .run = spawn_get_demo}};
const registration patched_sleep_registration{
    {.name = "green.patched_sleep",
     .summary = "the same after patch_all(): sleep(1) waits in the hub and nobody stops",
     .params = {param::number("tick_ms", 100, {20, 500})},
     .run = patched_sleep_demo}};

}  // namespace
}  // namespace lab::demos
