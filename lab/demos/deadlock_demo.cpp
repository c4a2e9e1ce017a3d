// Deadlock: two threads take two locks in opposite orders.
//
// lesson: locks, slide "Deadlock"
//
//   lock.deadlock  thread 1 takes lock A then lock B; thread 2 takes B then A.
//                  The locks report to a wait-for graph, and the demo watches
//                  it: when the cycle "1 waits for B, held by 2, which waits
//                  for A, held by 1" closes, it prints it and breaks the
//                  deadlock so the demo can end. Then the two fixes run under
//                  the same watch: one lock order for everyone, and
//                  std::scoped_lock, which takes both without deadlock.
#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "demo.hpp"
#include "spin_gate.hpp"
#include "tracked_mutex.hpp"
#include "wait_for_graph.hpp"

namespace lab::demos {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// What the watcher saw while some threads ran.
struct watch_result {
  std::vector<wait_edge> cycle;  // empty: no deadlock seen
  double after_ms = 0;           // when the cycle was seen
};

// Runs `one` and `two` on two named threads while this thread looks for a
// cycle in `graph` every millisecond. On a cycle, cancels the graph so that
// the stuck threads give up, then joins them. Also gives up (and cancels)
// after `limit`, so that nothing here can hang.
watch_result run_watched(wait_for_graph& graph, std::function<void()> one,
                         std::function<void()> two, std::chrono::milliseconds limit) {
  std::atomic<int> running{2};
  const auto named = [&](const char* name, const std::function<void()>& body) {
    return std::thread([&running, name, &body] {
      name_this_thread(name);
      try {
        body();
      } catch (const gave_up&) {
        // The watcher broke the deadlock: this thread's locks were released
        // as its scoped_locks unwound.
      }
      running.fetch_sub(1);
    });
  };
  const auto start = clock_type::now();
  std::thread first = named("thread 1", one);
  std::thread second = named("thread 2", two);
  watch_result result;
  while (running.load() > 0 && clock_type::now() - start < limit) {
    result.cycle = graph.find_cycle();
    if (!result.cycle.empty()) {
      result.after_ms =
          std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
      break;
    }
    std::this_thread::sleep_for(1ms);
  }
  if (running.load() > 0) graph.cancel();
  first.join();
  second.join();
  return result;
}

// The broken version. A gate between the first and the second lock makes
// the bad order certain: each thread holds its first lock before either asks
// for its second. (Left to chance this happens only sometimes, which is what
// makes deadlocks so hard to find by testing.)
int show_the_deadlock() {
  wait_for_graph graph;
  tracked_mutex a("lock A", graph), b("lock B", graph);
  spin_gate both_hold_one(2);
  const auto take = [&](tracked_mutex& first, tracked_mutex& second) {
    std::scoped_lock hold_first(first);
    both_hold_one.arrive_and_wait();
    std::scoped_lock hold_second(second);  // waits for the other thread: forever
  };
  fmt::print(
      "The bug: thread 1 takes lock A then lock B; thread 2 takes lock B then lock A.\n"
      "(Each waits, holding its first lock, until the other holds its own: the demo stages the\n"
      "unlucky timing that a real program meets only now and then.)\n");
  std::fflush(stdout);
  const watch_result seen = run_watched(
      graph, [&] { take(a, b); }, [&] { take(b, a); }, 10s);
  if (seen.cycle.empty()) {
    fmt::print("No deadlock seen within 10 s: something is wrong with the demo.\n");
    return 1;
  }
  fmt::print("Deadlock, seen after {:.1f} ms as a cycle in the wait-for graph:\n", seen.after_ms);
  for (const wait_edge& edge : seen.cycle)
    fmt::print("  {} waits for {}, held by {}\n", edge.thread, edge.lock, edge.holder);
  fmt::print(
      "Neither can ever go on by itself. The demo broke the cycle: it told the waiting threads\n"
      "to give up, and a thread that gives up lets go of the lock it holds.\n");
  return 0;
}

// One way of taking both locks for a transfer: takes them, pauses while
// holding them (`pause`), counts the transfer in `done`, lets go.
// `done` is guarded by both locks: written only while holding both.
using take_both = void (*)(tracked_mutex& from, tracked_mutex& to, std::chrono::microseconds pause,
                           long& done);

// Fix 1: everyone takes locks in one global order (here: by name), so nobody
// can hold a later lock while waiting for an earlier one.
void take_in_order(tracked_mutex& from, tracked_mutex& to, std::chrono::microseconds pause,
                   long& done) {
  tracked_mutex& first = from.name() < to.name() ? from : to;
  tracked_mutex& second = from.name() < to.name() ? to : from;
  std::scoped_lock hold_first(first);
  std::this_thread::sleep_for(pause);  // where the broken version deadlocked
  std::scoped_lock hold_second(second);
  ++done;
}

// Fix 2: std::scoped_lock with both mutexes at once. It takes one and tries
// the other; if that one is taken, it lets go of the first and starts again
// from the one it could not get. It never waits while holding a lock.
void take_together(tracked_mutex& from, tracked_mutex& to, std::chrono::microseconds pause,
                   long& done) {
  std::scoped_lock both(from, to);
  std::this_thread::sleep_for(pause);
  ++done;
}

// Runs `rounds` transfers each way between A and B at once (thread 1 from A
// to B, thread 2 from B to A), taking the locks with `take`, and says whether
// every transfer was done and whether the watcher ever saw a cycle.
int run_fix(const char* title, long rounds, std::chrono::microseconds pause, take_both take) {
  wait_for_graph graph;
  tracked_mutex a("lock A", graph), b("lock B", graph);
  long done = 0;
  const auto transfers = [&](tracked_mutex& from, tracked_mutex& to) {
    for (long r = 0; r < rounds; ++r) take(from, to, pause, done);
  };
  const watch_result seen = run_watched(
      graph, [&] { transfers(a, b); }, [&] { transfers(b, a); }, 30s);
  fmt::print("  {:<36} {} of {} transfers done, {}\n", title, done, 2 * rounds,
             seen.cycle.empty() ? "no cycle ever seen" : "a cycle was seen");
  std::fflush(stdout);
  return seen.cycle.empty() && done == 2 * rounds ? 0 : 1;
}

int run_deadlock(const params& p) {
  const long rounds = p.number("rounds");
  const auto pause = std::chrono::microseconds(p.number("pause_us"));
  if (show_the_deadlock() != 0) return 1;
  fmt::print("\nThe fixes, with {} transfers each way and a {} us pause while holding a lock:\n",
             rounds, pause.count());
  std::fflush(stdout);
  int status = run_fix("lock ordering (A before B, always):", rounds, pause, take_in_order);
  status |= run_fix("std::scoped_lock(from, to):", rounds, pause, take_together);
  return status;
}

// Each fix runs 2 x rounds transfers one at a time, each holding a lock for
// pause_us: at most 2 x 1,000 x 10 ms = 20 s, inside run_fix's 30 s watch.
const registration deadlock_demo{
    {.name = "lock.deadlock",
     .summary = "two locks taken in opposite orders: the deadlock seen, and two fixes",
     .params = {param::number("rounds", 50, {1, 1'000}),
                param::number("pause_us", 1000, {0, 10'000})},
     .run = run_deadlock}};

}  // namespace
}  // namespace lab::demos
