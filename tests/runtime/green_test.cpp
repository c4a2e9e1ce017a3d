#include "lab/green.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lab/green_offload.hpp"
#include "lab/thread_pool.hpp"
#include "lab/unique_fd.hpp"

#include "tracked.hpp"

using namespace std::chrono_literals;
namespace green = lab::green;

namespace {

using lab_test::tracked;

// An ordinary function, many calls deep, that waits: a generator could not.
void wait_deep_down(int depth, std::vector<std::string>& log, const std::string& who) {
  if (depth > 0) return wait_deep_down(depth - 1, log, who);
  log.push_back(who + " waits at the bottom");
  green::yield();
  log.push_back(who + " goes on");
}

// Recurses `depth` times with 512 bytes per call: far deeper than a
// greenlet's stack when depth is large.
int recurse(int depth) {
  volatile char pad[512];
  pad[0] = static_cast<char>(depth);
  return depth == 0 ? 0 : recurse(depth - 1) + pad[0];
}

}  // namespace

TEST_CASE("greenlets take turns at their waits and nowhere else") {
  std::vector<std::string> log;
  auto counter = [&log](std::string name) {
    for (int i = 1; i <= 3; ++i) {
      log.push_back(name + " " + std::to_string(i));
      green::yield();
    }
  };
  auto a = green::spawn(counter, std::string("a"));
  auto b = green::spawn(counter, std::string("b"));
  green::run();
  CHECK(log == std::vector<std::string>{"a 1", "b 1", "a 2", "b 2", "a 3", "b 3"});
  CHECK(a.done());
  CHECK(b.done());
}

TEST_CASE("a greenlet can wait deep inside ordinary function calls") {
  std::vector<std::string> log;
  auto a = green::spawn([&log] { wait_deep_down(50, log, "a"); });
  auto b = green::spawn([&log] { wait_deep_down(50, log, "b"); });
  green::run();
  CHECK(log == std::vector<std::string>{"a waits at the bottom", "b waits at the bottom", "a goes on",
                                        "b goes on"});
}

TEST_CASE("get returns a greenlet's result and sleepers wake in deadline order") {
  std::vector<int> woke;
  auto slow = green::spawn([&woke] {
    green::sleep(30ms);
    woke.push_back(30);
    return 3;
  });
  auto quick = green::spawn([&woke] {
    green::sleep(10ms);
    woke.push_back(10);
    return 4;
  });
  CHECK(slow.get() + quick.get() == 7);
  CHECK(woke == std::vector<int>{10, 30});
}

TEST_CASE("an exception in one greenlet reaches its get and the others go on") {
  auto failing = green::spawn([]() -> int {
    green::yield();
    throw std::runtime_error("request failed");
  });
  int steps = 0;
  auto fine = green::spawn([&steps] {
    for (int i = 0; i < 3; ++i, ++steps) green::yield();
  });
  CHECK_THROWS_WITH_AS(failing.get(), "request failed", std::runtime_error);
  fine.join();
  CHECK(steps == 3);
}

TEST_CASE("kill raises killed at the greenlet's wait and its destructors run") {
  int alive = 0;
  bool finished_sleeping = false;
  auto sleeper = green::spawn([&] {
    tracked local(alive);
    green::sleep(1h);
    finished_sleeping = true;
  });
  auto killer = green::spawn([&] {
    CHECK(alive == 1);  // the sleeper is inside its sleep
    sleeper.kill();
  });
  CHECK_THROWS_AS(sleeper.get(), green::killed);
  killer.join();
  CHECK(alive == 0);
  CHECK_FALSE(finished_sleeping);
}

TEST_CASE("a greenlet killed before it starts never runs") {
  bool ran = false;
  auto never = green::spawn([&ran] { ran = true; });
  never.kill();
  CHECK_THROWS_AS(never.get(), green::killed);
  CHECK_FALSE(ran);
}

TEST_CASE("a timeout scope raises timed_out in its greenlet when the work takes too long") {
  auto slow = green::spawn([] {
    green::timeout limit(20ms, "the slow request");
    green::sleep(1h);
  });
  CHECK_THROWS_WITH_AS(slow.get(), "the slow request did not finish within 20 ms", green::timed_out);
  auto quick = green::spawn([] {
    green::timeout limit(1h, "the quick request");
    green::sleep(1ms);
    return 5;
  });
  CHECK(quick.get() == 5);
}

TEST_CASE("an event wakes every greenlet waiting for it") {
  green::event ready;
  std::vector<std::string> log;
  auto waiter = [&](std::string name) {
    ready.wait();
    log.push_back(name);
  };
  auto a = green::spawn(waiter, std::string("a"));
  auto b = green::spawn(waiter, std::string("b"));
  auto setter = green::spawn([&] {
    green::yield();
    log.push_back("set");
    ready.set();
  });
  green::run();
  CHECK(log == std::vector<std::string>{"set", "a", "b"});
}

TEST_CASE("an async result hands a value or an exception to the greenlet that waits for it") {
  green::async_result<int> answer;
  auto consumer = green::spawn([&answer] { return answer.get(); });
  auto producer = green::spawn([&answer] {
    green::sleep(5ms);
    answer.set(42);
  });
  CHECK(consumer.get() == 42);
  green::async_result<int> failure;
  auto waits_for_failure = green::spawn([&failure] { return failure.get(); });
  auto fails = green::spawn([&failure] { failure.set_exception(std::make_exception_ptr(std::runtime_error("no"))); });
  CHECK_THROWS_WITH(waits_for_failure.get(), "no");
  producer.join();
  fails.join();
}

TEST_CASE("a queue hands items over in order and get waits while it is empty") {
  green::queue<int> items;
  std::vector<int> got;
  auto consumer = green::spawn([&] {
    for (int i = 0; i < 5; ++i) got.push_back(items.get());
  });
  auto producer = green::spawn([&] {
    for (int i = 0; i < 5; ++i) {
      items.put(i);
      green::sleep(1ms);
    }
  });
  green::run();
  CHECK(got == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("a pool runs at most its size of greenlets at once") {
  green::pool workers(3);
  int running = 0, most = 0, finished = 0;
  auto boss = green::spawn([&] {
    for (int i = 0; i < 10; ++i)
      workers.spawn([&] {
        most = std::max(most, ++running);
        green::sleep(2ms);
        --running;
        ++finished;
      });
    workers.join();
  });
  boss.join();
  CHECK(finished == 10);
  CHECK(most == 3);
}

TEST_CASE("a greenlet waiting for a readable socket wakes when data arrives") {
  int ends[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
  const lab::unique_fd reader(ends[0]), writer(ends[1]);
  auto reading = green::spawn([&reader] {
    green::wait_readable(reader.get());
    char buffer[16];
    const ssize_t got = ::read(reader.get(), buffer, sizeof buffer);
    return std::string(buffer, static_cast<std::size_t>(std::max<ssize_t>(got, 0)));
  });
  auto writing = green::spawn([&writer] {
    green::sleep(5ms);
    CHECK(::write(writer.get(), "hello", 5) == 5);
  });
  CHECK(reading.get() == "hello");
  writing.join();
}

TEST_CASE("greenlets that wait for each other are reported by name as a deadlock") {
  std::optional<green::greenlet<void>> a, b;
  a = green::spawn_named("alice", [&b] {
    green::yield();
    b->join();
  });
  b = green::spawn_named("bob", [&a] {
    green::yield();
    a->join();
  });
  CHECK_THROWS_WITH_AS(a->get(), doctest::Contains("'alice'"), green::deadlock);
  a->kill();  // leave the hub clean for the other tests
  b->kill();
  green::run();
  CHECK(a->done());
  CHECK(b->done());
}

TEST_CASE("a thousand sleeping greenlets all finish") {
  int finished = 0;
  for (int i = 0; i < 1000; ++i)
    green::spawn([&finished, i] {
      green::sleep(std::chrono::milliseconds(i % 7));
      ++finished;
    });
  green::run();
  CHECK(finished == 1000);
}

TEST_CASE("get from main returns once that greenlet ends while another still sleeps") {
  std::vector<std::string> log;
  auto sleeper = green::spawn([&log] {
    log.push_back("sleeper sleeps for an hour");
    green::sleep(std::chrono::hours(1));
    log.push_back("sleeper woke");  // never: it is killed below
  });
  auto quick = green::spawn([&log] {
    green::yield();
    log.push_back("quick ends");
    return 7;
  });
  CHECK(quick.get() == 7);  // main runs the hub only until `quick` has ended
  CHECK_FALSE(sleeper.done());
  green::sleep(1ms);        // main: the hub runs for 1 ms, and the sleeper sleeps on
  CHECK_FALSE(sleeper.done());
  sleeper.kill();
  CHECK_THROWS_AS(sleeper.get(), green::killed);
  CHECK(log == std::vector<std::string>{"sleeper sleeps for an hour", "quick ends"});
}

TEST_CASE("get from main returns once that greenlet ends while others keep yielding") {
  // Greenlets that only yield never go back to the loop while it has
  // nothing else to do: the end of `quick` must still reach main.
  bool stop = false;
  int turns = 0;
  auto yielder = [&stop, &turns] {
    while (!stop) {
      ++turns;
      green::yield();
    }
  };
  auto a = green::spawn(yielder);
  auto b = green::spawn(yielder);
  auto quick = green::spawn([] {
    for (int i = 0; i < 3; ++i) green::yield();
    return 7;
  });
  CHECK(quick.get() == 7);
  CHECK_FALSE(a.done());
  CHECK_FALSE(b.done());
  CHECK(turns >= 6);  // both yielded beside it, round robin
  stop = true;
  green::run();
  CHECK(a.done());
  CHECK(b.done());
}

TEST_CASE("greenlets that keep yielding still let a sleeper wake") {
  // Yields switch from greenlet to greenlet directly; the loop must still
  // get its turn to fire timers. Bounded by a count, not a clock: 50
  // million yields take far longer than the 5 ms sleep.
  bool woke = false;
  long yields = 0;
  auto spinner = [&woke, &yields] {
    for (long n = 0; !woke && n < 50'000'000; ++n) {
      ++yields;
      green::yield();
    }
  };
  auto a = green::spawn(spinner);
  auto b = green::spawn(spinner);
  auto sleeper = green::spawn([&woke] {
    green::sleep(5ms);
    woke = true;
  });
  green::run();
  CHECK(woke);
  CHECK(yields > 0);
  CHECK(yields < 100'000'000);  // the spinners stopped when it woke, not at their bound
}

TEST_CASE("the watchdog names a greenlet that kept the thread between two direct switches") {
  const auto before = green::stalls().size();
  auto polite = green::spawn_named("polite", [] {
    for (int i = 0; i < 3; ++i) green::yield();
  });
  auto blocker = green::spawn_named("blocker", [] {
    green::yield();
    std::this_thread::sleep_for(150ms);  // a blocking call: nobody else runs meanwhile
    green::yield();
  });
  green::run();
  const auto seen = green::stalls();
  const bool named = std::any_of(seen.begin() + static_cast<std::ptrdiff_t>(before), seen.end(),
                                 [](const green::stall_seen& s) {
                                   return s.greenlet == "blocker" && s.duration >= 100ms;
                                 });
  CHECK(named);
}

TEST_CASE("a waiting greenlet that nobody holds lives until its hub kills it at the thread's end") {
  bool unwound_early = true, unwound = false;
  std::thread([&] {
    auto gate = std::make_unique<green::event>();
    green::spawn([&unwound, &gate] {  // its handle is dropped at once
      struct mark_on_exit {
        bool& flag;
        ~mark_on_exit() { flag = true; }
      } mark{unwound};
      gate->wait();
    });
    green::sleep(1ms);  // main: the greenlet runs up to its wait
    gate.reset();       // the only waker goes: nothing but the hub holds the greenlet now
    unwound_early = unwound;
  }).join();  // the thread's hub ends: it kills the greenlet, which unwinds
  CHECK_FALSE(unwound_early);
  CHECK(unwound);
}

TEST_CASE("a greenlet that overflows its stack crashes on the guard page instead of corrupting memory") {
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    signal(SIGSEGV, SIG_DFL);  // not doctest's handler: the parent reads how the child ended
    auto runaway = green::spawn([] { return recurse(100'000'000); });
    runaway.join();
    _exit(0);  // reached only if the overflow went unnoticed
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  // A signal (SIGSEGV on the guard page), or a sanitizer's report and exit
  // code under ASan; never a clean exit.
  CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0)));
}

// The call blocks its worker thread at a gate only a greenlet opens. Had it
// run on the greenlets' thread, that greenlet could not run: the call would
// give up after 30 s and return -1, and the log would say so.
TEST_CASE("a blocking call in a thread lets the other greenlets run until it returns") {
  lab::thread_pool pool(1);
  std::promise<void> gate;
  std::shared_future<void> opened = gate.get_future().share();
  std::vector<std::string> log;
  auto caller = green::spawn([&] {
    const int answer = green::call_in_thread(pool, [opened] {
      // Blocks this worker thread until a greenlet opens the gate.
      return opened.wait_for(30s) == std::future_status::ready ? 42 : -1;
    });
    log.push_back("the call returned " + std::to_string(answer));
  });
  auto other = green::spawn([&] {
    log.push_back("another greenlet ran while the call blocked");
    gate.set_value();
  });
  caller.get();
  other.get();
  CHECK(log == std::vector<std::string>{"another greenlet ran while the call blocked",
                                        "the call returned 42"});
}

TEST_CASE("an exception thrown by a call in a thread comes out in its greenlet") {
  lab::thread_pool pool(1);
  auto caller = green::spawn([&] {
    return green::call_in_thread(pool, []() -> int { throw std::runtime_error("the query failed"); });
  });
  CHECK_THROWS_WITH_AS(caller.get(), "the query failed", std::runtime_error);
}
