#include "lab/event_loop.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lab/unique_fd.hpp"

#include "tracked.hpp"

using namespace std::chrono_literals;

namespace {

lab::task<> counter(std::string name, int steps, std::vector<std::string>& log) {
  for (int count = 1; count <= steps; ++count) {
    log.push_back(name + " " + std::to_string(count));
    co_await lab::yield();
  }
}

lab::task<> sleeper(std::string name, std::chrono::milliseconds delay, std::vector<std::string>& log) {
  co_await lab::sleep(delay);
  log.push_back(name);
}

lab::task<int> value_after(std::chrono::milliseconds delay, int value) {
  co_await lab::sleep(delay);
  co_return value;
}

lab::task<int> fails_after_a_yield() {
  co_await lab::yield();
  throw std::runtime_error("request failed");
}

lab::task<int> sum_of_two() {
  const int a = co_await value_after(5ms, 20);  // a sub-call: runs to its end first
  const int b = co_await value_after(5ms, 22);
  co_return a + b;
}

lab::task<> cleans_up_when_cancelled(std::vector<std::string>& log) {
  try {
    co_await lab::sleep(1h);
    log.push_back("woke up");
  } catch (const lab::cancelled&) {
    log.push_back("cancelled");
    throw;
  }
}

lab::task<> awaits(std::optional<lab::join_handle<void>>* other) {
  co_await lab::yield();  // let both be spawned before either awaits
  co_await **other;
}

using lab_test::tracked;

lab::task<> holds_a_local_and_sleeps(int& alive) {
  tracked local(alive);
  co_await lab::sleep(1h);
}

lab::task<std::string> reads_when_readable(int fd) {
  co_await lab::readable(fd);
  char buffer[16];
  const ssize_t got = ::read(fd, buffer, sizeof buffer);
  co_return std::string(buffer, static_cast<std::size_t>(got > 0 ? got : 0));
}

lab::task<> blocks_the_thread() {
  std::this_thread::sleep_for(200ms);  // the mistake: a blocking wait inside a task
  co_return;
}

lab::task<> yields_once() { co_await lab::yield(); }

}  // namespace

TEST_CASE("the event loop runs ready tasks round robin in the order they became ready") {
  lab::event_loop loop;
  std::vector<std::string> log;
  loop.spawn(counter("coro1", 3, log), "coro1");
  loop.spawn(counter("coro2", 3, log), "coro2");
  loop.run();
  CHECK(log == std::vector<std::string>{"coro1 1", "coro2 1", "coro1 2", "coro2 2", "coro1 3",
                                        "coro2 3"});
}

TEST_CASE("sleepers wake in deadline order and equal deadlines in the order they slept") {
  lab::event_loop loop({.virtual_clock = true});
  std::vector<std::string> log;
  const auto start = loop.now();
  loop.spawn(sleeper("30", 30ms, log));
  loop.spawn(sleeper("10 first", 10ms, log));
  loop.spawn(sleeper("20", 20ms, log));
  loop.spawn(sleeper("10 second", 10ms, log));
  loop.run();
  CHECK(log == std::vector<std::string>{"10 first", "10 second", "20", "30"});
  CHECK(loop.now() - start == 30ms);  // the virtual clock jumped, exactly
  CHECK(loop.stats().waits == 0);     // and the loop never really slept
}

TEST_CASE("a loop whose only task sleeps waits in epoll instead of spinning") {
  lab::event_loop loop;
  std::vector<std::string> log;
  loop.spawn(sleeper("done", 50ms, log));
  loop.run();
  CHECK(log == std::vector<std::string>{"done"});
  // A loop that polled would go round thousands of times in 50 ms.
  CHECK(loop.stats().rounds <= 8);
  CHECK(loop.stats().waits >= 1);
}

TEST_CASE("a task awaiting another task gets its value when it ends") {
  lab::event_loop loop({.virtual_clock = true});
  CHECK(loop.run_until_complete(sum_of_two()) == 42);
}

namespace {
lab::task<int> ends_at_once(int n) { co_return n; }
lab::task<long> sum_of_many_awaits(int count) {
  long total = 0;
  for (int i = 0; i < count; ++i) total += co_await ends_at_once(i % 3);
  co_return total;
}
}  // namespace

TEST_CASE("a task can await two hundred thousand tasks that end at once without growing its stack") {
  // Each co_await of a task that never waits must leave the stack as it
  // was: under ThreadSanitizer (no tail calls) a resume per turn used to
  // stack a frame per turn and crash.
  lab::event_loop loop;
  CHECK(loop.run_until_complete(sum_of_many_awaits(200'000)) == 199'999L);
}

TEST_CASE("an exception in one task reaches its get and the other tasks go on") {
  lab::event_loop loop;
  std::vector<std::string> log;
  auto failing = loop.spawn(fails_after_a_yield(), "failing");
  auto fine = loop.spawn(counter("fine", 3, log), "fine");
  loop.run();
  CHECK(fine.done());
  CHECK(log.size() == 3);
  CHECK_THROWS_WITH_AS(failing.get(), "request failed", std::runtime_error);
}

TEST_CASE("a cancelled task gets lab::cancelled at its wait and runs its clean up") {
  lab::event_loop loop({.virtual_clock = true});
  std::vector<std::string> log;
  const auto start = loop.now();
  auto sleeping = loop.spawn(cleans_up_when_cancelled(log), "sleeping");
  loop.call_later(10ms, [sleeping]() mutable { sleeping.cancel(); });
  loop.run();
  CHECK(log == std::vector<std::string>{"cancelled"});
  CHECK_THROWS_AS(sleeping.get(), lab::cancelled);
  CHECK(loop.now() - start == 10ms);  // its hour-long timer did not keep the loop going
}

TEST_CASE("timeout returns the value of work that finishes in time") {
  lab::event_loop loop({.virtual_clock = true});
  auto quick = []() -> lab::task<int> { co_return co_await lab::timeout(1s, value_after(10ms, 7)); };
  CHECK(loop.run_until_complete(quick()) == 7);
}

TEST_CASE("timeout cancels work that takes too long and says so") {
  lab::event_loop loop({.virtual_clock = true});
  const auto start = loop.now();
  auto slow = []() -> lab::task<int> {
    co_return co_await lab::timeout(100ms, value_after(10s, 7), "the slow request");
  };
  CHECK_THROWS_WITH_AS(loop.run_until_complete(slow()),
                       "the slow request did not finish within 100 ms and was cancelled",
                       lab::timed_out);
  CHECK(loop.now() - start == 100ms);
}

TEST_CASE("a hundred thousand tasks all run to their end") {
  lab::event_loop loop;
  std::vector<lab::join_handle<void>> handles;
  for (int i = 0; i < 100'000; ++i) handles.push_back(loop.spawn(yields_once()));
  loop.run();
  int done = 0;
  for (const auto& h : handles) done += h.done() ? 1 : 0;
  CHECK(done == 100'000);
}

TEST_CASE("tasks waiting for each other make run throw loop_stuck with their names") {
  lab::event_loop loop;
  std::optional<lab::join_handle<void>> a, b;
  a = loop.spawn(awaits(&b), "alice");
  b = loop.spawn(awaits(&a), "bob");
  CHECK_THROWS_WITH_AS(loop.run(),
                       "every task waits for another and nothing can wake them: 'alice', 'bob'",
                       lab::loop_stuck);
}

TEST_CASE("destroying a loop frees the frames of tasks that never ended") {
  int alive = 0;
  {
    lab::event_loop loop;
    loop.spawn(holds_a_local_and_sleeps(alive), "sleeper");
    loop.call_later(1ms, [] { throw std::runtime_error("stop the loop"); });
    CHECK_THROWS(loop.run());
    CHECK(alive == 1);
  }
  CHECK(alive == 0);
}

TEST_CASE("a task waiting for a readable socket wakes when data arrives") {
  int ends[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
  const lab::unique_fd reader(ends[0]), writer(ends[1]);
  lab::event_loop loop;
  auto reading = loop.spawn(reads_when_readable(reader.get()), "reader");
  loop.call_later(5ms, [&] { CHECK(::write(writer.get(), "hello", 5) == 5); });
  loop.run();
  CHECK(reading.get() == "hello");
}

TEST_CASE("callbacks run in the order they were scheduled and a cancelled timer never runs") {
  lab::event_loop loop({.virtual_clock = true});
  std::vector<std::string> log;
  loop.call_later(20ms, [&] { log.push_back("later 20"); });
  const auto dropped = loop.call_later(10ms, [&] { log.push_back("cancelled timer"); });
  loop.call_later(5ms, [&] { log.push_back("later 5"); });
  loop.call_soon([&] { log.push_back("soon 1"); });
  loop.call_soon([&] { log.push_back("soon 2"); });
  loop.cancel_timer(dropped);
  loop.run();
  CHECK(log == std::vector<std::string>{"soon 1", "soon 2", "later 5", "later 20"});
}

TEST_CASE("the watchdog names a task that blocked the thread and how long") {
  std::vector<lab::stall> seen;
  lab::event_loop loop({.stall_warning = 100ms, .on_stall = [&](const lab::stall& s) { seen.push_back(s); }});
  std::vector<std::string> log;
  loop.spawn(blocks_the_thread(), "blocker");
  loop.spawn(counter("other", 2, log), "other");
  loop.run();
  bool named = false;
  for (const auto& s : seen)
    if (s.task == "task 'blocker'") named = s.duration >= 190ms;  // blocked 200 ms; the watchdog reads a clock precise to a few ms
  CHECK(named);
}

TEST_CASE("the watchdog times a plain callback but not one that times itself") {
  std::vector<lab::stall> seen;
  lab::event_loop loop({.stall_warning = 50ms, .on_stall = [&](const lab::stall& s) { seen.push_back(s); }});
  loop.call_soon_self_timed([] { std::this_thread::sleep_for(80ms); });
  loop.run();
  CHECK(seen.empty());
  loop.call_soon([] { std::this_thread::sleep_for(80ms); });
  loop.run();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].in_callback);
}

TEST_CASE("the loop has nothing else to do only without ready callbacks or timers") {
  lab::event_loop loop;
  std::vector<bool> answers;
  loop.call_soon([&] { answers.push_back(loop.nothing_else_to_do()); });
  loop.run();
  loop.call_soon([&] { answers.push_back(loop.nothing_else_to_do()); });
  loop.call_soon([] {});
  loop.run();
  loop.call_soon([&] { answers.push_back(loop.nothing_else_to_do()); });
  const auto timer = loop.call_later(1h, [] {});
  loop.call_soon([&loop, timer] { loop.cancel_timer(timer); });
  loop.run();
  CHECK(answers == std::vector<bool>{true, false, false});
}

// ---- lifetimes of a task's frame and record (lab/task_record.hpp) ----------

namespace {
lab::task<int> holds_a_local_and_returns(int& alive, int value) {
  tracked local(alive);
  co_await lab::yield();
  co_return value;
}

lab::task<> awaits_handle(lab::join_handle<void> other, std::vector<std::string>& log) {
  try {
    co_await other;
    log.push_back("joined");
  } catch (const lab::cancelled&) {
    log.push_back("cancelled while joining");
    throw;
  }
}
}  // namespace

TEST_CASE("a task's frame goes when it ends while its handle still gives its result") {
  int alive = 0;
  lab::event_loop loop;
  auto handle = loop.spawn(holds_a_local_and_returns(alive, 7), "returns 7");
  loop.run();
  CHECK(alive == 0);  // the frame and its local went at the end, not with the last handle
  CHECK(handle.get() == 7);
  CHECK(handle.name() == "returns 7");
}

TEST_CASE("a handle that outlives its loop still answers and its cancel does nothing") {
  int alive = 0;
  std::optional<lab::join_handle<void>> handle;
  {
    lab::event_loop loop;
    handle = loop.spawn(holds_a_local_and_sleeps(alive), "sleeper");
    loop.call_later(1ms, [] { throw std::runtime_error("stop the loop"); });
    CHECK_THROWS(loop.run());
  }
  CHECK(alive == 0);  // the loop freed the frame though a handle holds the task
  CHECK(handle->name() == "sleeper");
  CHECK_FALSE(handle->done());
  handle->cancel();  // its loop is gone: nothing to do (ASan checks nothing is touched)
  CHECK_THROWS_AS(handle->get(), std::logic_error);
}

TEST_CASE("destroying a loop frees tasks that await each other's handles in either spawn order") {
  int alive = 0;
  {
    lab::event_loop loop;
    std::vector<std::string> log;
    auto first = loop.spawn(holds_a_local_and_sleeps(alive), "first sleeper");
    loop.spawn(awaits_handle(first, log), "joins the first");
    std::optional<lab::join_handle<void>> later;
    loop.spawn(
        [](std::optional<lab::join_handle<void>>& other,
           std::vector<std::string>& out) -> lab::task<> {
          co_await lab::yield();  // the task it joins is spawned after it
          co_await awaits_handle(*other, out);
        }(later, log),
        "joins a later one");
    later = loop.spawn(holds_a_local_and_sleeps(alive), "later sleeper");
    loop.call_later(1ms, [] { throw std::runtime_error("stop the loop"); });
    CHECK_THROWS(loop.run());
    CHECK(alive == 2);
    CHECK(log.empty());
  }
  CHECK(alive == 0);
}

TEST_CASE("a task cancelled while it awaits a handle leaves that task's line") {
  lab::event_loop loop({.virtual_clock = true});
  std::vector<std::string> log;
  auto slow = loop.spawn(value_after(10ms, 1), "slow");
  // Only the timer that cancels it holds the joiner's handle: once it has
  // run, the joiner's memory goes as soon as the joiner ends.
  auto joiner = loop.spawn(
      [](lab::join_handle<int> other, std::vector<std::string>& out) -> lab::task<> {
        try {
          co_await other;
        } catch (const lab::cancelled&) {
          out.push_back("cancelled while joining");
        }
      }(slow, log),
      "joiner");
  loop.call_later(5ms, [handle = std::move(joiner)]() mutable { handle.cancel(); });
  auto second = loop.spawn(
      [](lab::join_handle<int> other, std::vector<std::string>& out) -> lab::task<> {
        out.push_back("joined: " + std::to_string(co_await other));
      }(slow, log),
      "second joiner");
  loop.run();
  // The cancelled joiner ended before slow did (its memory is gone); slow's
  // end woke only the one still in line (ASan would see a woken ghost).
  CHECK(log == std::vector<std::string>{"cancelled while joining", "joined: 1"});
  CHECK(second.done());
  CHECK(slow.get() == 1);
}
