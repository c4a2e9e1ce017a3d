// Hidden checks for the scheduler exercise (exercises/scheduler.cpp).
//
// The checks drive the student's scheduler through the functions at the
// bottom of the exercise file, with tasks of their own (programs.hpp) that
// log what they do. One thread runs the scheduler, so the order of the log
// is the evidence: round robin is an exact order, and with a virtual clock
// (time moves only when the scheduler sleeps) so is the order in which
// sleepers wake. CPU time while every task sleeps is measured on the
// scheduler's thread across a real sleep, and compared with the time it
// could have run: a loop that spins uses all of it, one that sleeps almost
// none. A run that hangs is judged from progress (trial.hpp), never by a
// deadline.
#include <lab/check.hpp>
#include <lab/coop_task.hpp>

#include <fcntl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "programs.hpp"
#include "trial.hpp"
#include "world.hpp"

using namespace scheduler_check;
using clock_kind = trial::clock_kind;

namespace {

const std::string lost_advice =
    "The scheduler lost them: a task must stay in one of its queues (ready, sleeping, or waiting "
    "for a descriptor) from spawn() until its body ends (lesson: coroutines)";

// After run() returned: it threw nothing, and every task ended. Fails the
// check and returns false otherwise.
bool ended_cleanly(trial& t) {
  if (!t.run_error().empty()) {
    FAIL_CHECK("run() threw: ", t.run_error(),
               ". run() ends when every task has ended; an exception of a task belongs to "
               "that task's get(), not to run()");
    return false;
  }
  const std::string left = t.unfinished();
  if (!left.empty()) {
    FAIL_CHECK("run() returned, but ", left, " ", lost_advice);
    return false;
  }
  return true;
}

// The log, or the first place where it differs from `expected`, in words.
void expect_log(trial& t, const std::vector<std::string>& expected, const std::string& what,
                const std::string& advice) {
  const std::vector<std::string> got = t.w->events();
  if (got != expected)
    FAIL_CHECK(what, ": the log ", lab::check::first_difference(expected, got), ". ", advice);
}

const std::string round_robin_advice =
    "Round robin: take the task at the front of the ready queue, step it, and put it at the back "
    "if it yielded yield_now; a new task goes to the back too (lecture 004's itertools.cycle)";

std::string joined(const std::vector<std::string>& events) {
  std::string text;
  for (const auto& event : events) text += (text.empty() ? "" : ", ") + event;
  return text;
}

std::string in_seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f s", seconds);
  return text;
}

// The scheduler's thread used almost no CPU over the run (a tenth of the
// time it could have run is far from both a sleep and a spin). `while_what`
// says what the tasks were doing.
void expect_idle(const trial& t, const std::string& while_what) {
  const thread_figures& f = t.figures();
  const std::string figures = "the scheduler's thread used " + in_seconds(f.cpu) + " of CPU in " +
                              in_seconds(f.chance()) + " in which it could run (" +
                              in_seconds(f.wall) + " of wall time) while " + while_what;
  if (f.cpu > 0.1 * f.chance())
    FAIL_CHECK("the scheduler burns CPU while no task can run: ", figures,
               ". That is a busy wait: when nothing is ready, sleep until the earliest deadline "
               "(the clock's sleep_until) or wait in poll() with that timeout, never look again "
               "and again");
  else
    MESSAGE("idle: ", figures);
}

// A pipe whose read end does not block: a reader resumed too early finds
// nothing instead of blocking the scheduler's thread.
int add_pipe(world& w) {
  w.pipes.push_back(lab::make_pipe(O_CLOEXEC));
  const int fd = w.pipes.back().read.get();
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Writes a byte into every pipe of `w`: whoever waits on one can go on.
void feed_all_pipes(world& w) {
  const std::lock_guard<std::mutex> hold(w.lock);
  for (const auto& p : w.pipes)
    if (::write(p.write.get(), "!", 1) != 1) {
    }
}

}  // namespace

// --- stage 1: round robin, results, exceptions ----------------------------------

TEST_CASE("runs two tasks round robin in the lecture's order") {
  trial t(clock_kind::virtual_time);
  t.spawn("coro1", talker(t.w, "coro1", 3));
  t.spawn("coro2", talker(t.w, "coro2", 3));
  if (!t.run() || !ended_cleanly(t)) return;
  expect_log(t, {"coro1 1", "coro2 1", "coro1 2", "coro2 2", "coro1 3", "coro2 3"},
             "two tasks that each print and yield_now 3 times", round_robin_advice);
}

TEST_CASE("runs tasks of different lengths round robin until each has ended") {
  trial t(clock_kind::virtual_time);
  t.spawn("a", talker(t.w, "a", 1));
  t.spawn("b", talker(t.w, "b", 4));
  t.spawn("c", talker(t.w, "c", 2));
  if (!t.run() || !ended_cleanly(t)) return;
  expect_log(t, {"a 1", "b 1", "c 1", "b 2", "c 2", "b 3", "b 4"},
             "tasks a, b and c of 1, 4 and 2 steps", round_robin_advice);
}

TEST_CASE("queues a task spawned by a running task behind the tasks already ready") {
  trial t(clock_kind::virtual_time);
  auto child = std::make_shared<std::optional<task_handle>>();
  t.spawn("P", parent(t.w, t.student(), "P", "C", child));
  t.spawn("Q", talker(t.w, "Q", 3));
  if (!t.run() || !ended_cleanly(t)) return;
  if (!child->has_value() || !(*child)->done()) {
    FAIL_CHECK("the task C that task P spawned while it ran never ended. ", lost_advice);
    return;
  }
  expect_log(t, {"P 1", "Q 1", "C 1", "P 2", "Q 2", "C 2", "P 3", "Q 3"},
             "P spawns C in its first step, beside Q", round_robin_advice);
}

TEST_CASE("gives each task's co_return value to its handle's get()") {
  trial t(clock_kind::virtual_time);
  std::vector<task_handle> handles;
  for (int steps : {3, 1, 4, 2}) {
    const std::string name = "t" + std::to_string(steps);
    handles.push_back(t.spawn(name, talker(t.w, name, steps)));
  }
  if (!t.run() || !ended_cleanly(t)) return;
  const std::vector<int> expected = {3, 1, 4, 2};
  std::vector<int> got;
  for (const auto& h : handles) got.push_back(h.get());
  if (got != expected)
    FAIL_CHECK("get() of tasks that co_return 3, 1, 4 and 2 ",
               lab::check::first_difference(expected, got),
               ". When a task's body has ended, its result (task::result()) goes into its "
               "task_state, and finished is set");
}

TEST_CASE("raises a task's exception in its get() and runs the other tasks to their end") {
  trial t(clock_kind::virtual_time);
  const task_handle a = t.spawn("a", talker(t.w, "a", 3));
  const task_handle b = t.spawn("b", thrower(t.w, "b", 2, "b failed in its step 3"));
  const task_handle c = t.spawn("c", talker(t.w, "c", 4));
  if (!t.run() || !ended_cleanly(t)) return;
  expect_log(t, {"a 1", "b 1", "c 1", "a 2", "b 2", "c 2", "a 3", "c 3", "c 4"},
             "a (3 steps), b (throws in its step 3) and c (4 steps)",
             "one task's exception must not stop or reorder the others");
  try {
    const int value = b.get();
    FAIL_CHECK("the exception task b threw never reached its get(): get() returned ", value,
               ". When a body ends by throwing, task::error() holds the exception: put it into "
               "the task's task_state (error), so that get() throws it again");
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()) != "b failed in its step 3")
      FAIL_CHECK("get() of task b threw \"", e.what(),
                 "\" instead of the exception b threw (\"b failed in its step 3\")");
  }
  if (a.get() != 3 || c.get() != 4)
    FAIL_CHECK("the tasks beside the one that threw gave ", a.get(), " and ", c.get(),
               " instead of 3 and 4");
}

TEST_CASE("runs 100000 tasks to their end") {
  constexpr int count = 100'000;
  trial t(clock_kind::virtual_time);
  std::vector<task_handle> handles;
  handles.reserve(count);
  for (int i = 0; i < count; ++i) handles.push_back(spawn_on(t.student(), numbered(t.w, i)));
  if (!t.run()) return;
  if (!t.run_error().empty()) {
    FAIL_CHECK("run() threw: ", t.run_error());
    return;
  }
  int unfinished = 0, wrong = 0, first_unfinished = -1;
  for (int i = 0; i < count; ++i) {
    if (!handles[static_cast<std::size_t>(i)].done()) {
      if (unfinished++ == 0) first_unfinished = i;
    } else if (handles[static_cast<std::size_t>(i)].get() != i) {
      ++wrong;
    }
  }
  if (unfinished > 0)
    FAIL_CHECK("run() returned, but ", unfinished, " of ", count,
               " tasks (each yields twice, then returns its number) never ended; the first is "
               "number ",
               first_unfinished, ". ", lost_advice);
  else if (wrong > 0)
    FAIL_CHECK(wrong, " of ", count, " tasks gave get() a number other than their own");
  else
    MESSAGE(count, " tasks of 3 steps each ended in ", in_seconds(t.figures().wall), " (",
            in_seconds(t.figures().cpu), " of CPU)");
}

// --- stage 2: sleeping ------------------------------------------------------------

TEST_CASE("wakes sleepers in the order of their deadlines on a virtual clock" *
          doctest::skip(lab::check::stage() < 2)) {
  trial t(clock_kind::virtual_time);
  t.spawn("a", sleeper(t.w, "a", {50ms}));
  t.spawn("b", sleeper(t.w, "b", {10ms}));
  t.spawn("c", sleeper(t.w, "c", {40ms}));
  t.spawn("d", sleeper(t.w, "d", {20ms}));
  t.spawn("x", sleeper(t.w, "x", {15ms, 30ms}));  // wakes at 15, then 45
  if (!t.run() || !ended_cleanly(t)) return;
  expect_log(t, {"b@10", "x@15", "d@20", "c@40", "x@45", "a@50"},
             "tasks sleeping 50, 10, 40 and 20 ms, and one sleeping 15 then 30 ms (name@ms of "
             "virtual time when it woke)",
             "Sleepers must wake in deadline order, each at its deadline: keep them in a "
             "min-heap by deadline (std::priority_queue with a comparison that puts the earliest "
             "on top), not in the order they went to sleep; and sleep only until the earliest");
}

TEST_CASE("wakes a sleeper whose deadline has passed while another task keeps running" *
          doctest::skip(lab::check::stage() < 2)) {
  trial t(clock_kind::virtual_time);
  t.spawn("worker", worker(t.w, "worker", 10, 10ms));  // 10 ms of (virtual) work per step
  t.spawn("s", sleeper(t.w, "s", {25ms}));
  if (!t.run() || !ended_cleanly(t)) return;
  const std::vector<std::string> got = t.w->events();
  long woke_at = -1;
  std::size_t worker_steps_before = 0;
  for (const auto& event : got) {
    if (event.starts_with("s@")) {
      woke_at = std::stol(event.substr(2));
      break;
    }
    ++worker_steps_before;
  }
  if (woke_at < 25)
    FAIL_CHECK("the sleeper of 25 ms woke at ", woke_at,
               " ms of virtual time: before its deadline");
  else if (worker_steps_before >= 10)
    FAIL_CHECK("the sleeper of 25 ms woke only at ", woke_at,
               " ms, after the busy task's 10 steps of 10 ms had all run: look for sleepers "
               "whose deadline has passed on every turn, not only when no task is ready");
}

TEST_CASE("uses no CPU while every task sleeps" * doctest::skip(lab::check::stage() < 2)) {
  trial t(clock_kind::real_time);
  t.spawn("a", sleeper(t.w, "a", {300ms}));
  t.spawn("b", sleeper(t.w, "b", {250ms}));
  t.spawn("c", sleeper(t.w, "c", {200ms, 100ms}));
  if (!t.run() || !ended_cleanly(t)) return;
  expect_idle(t, "3 tasks slept about 300 ms");
}

// --- stage 3: descriptors and cancellation -----------------------------------------

TEST_CASE("resumes a task when its descriptor becomes readable" *
          doctest::skip(lab::check::stage() < 3)) {
  trial t(clock_kind::real_time);
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) fds.push_back(add_pipe(*t.w));
  for (int i = 0; i < 3; ++i) {
    const std::string name = "r" + std::to_string(i);
    t.spawn(name, reader(t.w, name, fds[static_cast<std::size_t>(i)]));
  }
  std::vector<planned_write> plan;
  for (const auto& [pipe, byte] : {std::pair{2, 'c'}, std::pair{0, 'a'}, std::pair{1, 'b'}})
    plan.push_back({30ms, t.w->pipes[static_cast<std::size_t>(pipe)].write.get(), byte});
  t.spawn("writer", writer(t.w, "writer", plan));
  t.spawn("y", talker(t.w, "y", 5));
  if (!t.run([&] { feed_all_pipes(*t.w); }) || !ended_cleanly(t)) return;
  std::vector<std::string> io;  // the log without the talker's lines
  for (const auto& event : t.w->events())
    if (!event.starts_with("y ")) io.push_back(event);
  for (const auto& event : io)
    if (event.ends_with("resumed with nothing to read")) {
      FAIL_CHECK("a task waiting for its descriptor was resumed before anything could be read (",
                 event,
                 "): resume a task that yielded readable{fd} only when poll() says fd "
                 "is readable (POLLIN, or POLLHUP/POLLERR)");
      return;
    }
  // Each read after its write, the reads in the order of the writes.
  std::vector<std::string> reads, expected_reads = {"r2 read c", "r0 read a", "r1 read b"};
  for (const auto& event : io)
    if (event.find(" read ") != std::string::npos) reads.push_back(event);
  bool read_before_write = false;
  for (std::size_t i = 0; i < io.size(); ++i)
    if (io[i].find(" read ") != std::string::npos) {
      const std::string wrote = "wrote " + io[i].substr(io[i].size() - 1);
      bool seen = false;
      for (std::size_t j = 0; j < i; ++j) seen = seen || io[j] == wrote;
      read_before_write = read_before_write || !seen;
    }
  if (reads != expected_reads || read_before_write)
    FAIL_CHECK("three tasks wait on three pipes, written in the order 2, 0, 1: the reads ",
               lab::check::first_difference(expected_reads, reads), " (what happened: ", joined(io),
               "). Wake exactly the tasks whose descriptors poll() reports readable");
}

TEST_CASE("uses no CPU while a task waits for a descriptor and another sleeps" *
          doctest::skip(lab::check::stage() < 3)) {
  trial t(clock_kind::real_time);
  const int fd = add_pipe(*t.w);
  t.spawn("r", reader(t.w, "r", fd));
  t.spawn("writer", writer(t.w, "writer", {{300ms, t.w->pipes[0].write.get(), 'z'}}));
  if (!t.run([&] { feed_all_pipes(*t.w); }) || !ended_cleanly(t)) return;
  expect_idle(t, "one task waited 300 ms for a pipe and another slept until it wrote to it");
}

TEST_CASE("runs a cancelled task's clean-up at once and never resumes it" *
          doctest::skip(lab::check::stage() < 3)) {
  trial t(clock_kind::virtual_time);
  const task_handle looper = t.spawn("looper", guarded(t.w, "looper", waits_for::turns, -1));
  const task_handle napper = t.spawn("napper", guarded(t.w, "napper", waits_for::a_long_sleep, -1));
  t.spawn("canceller", canceller(t.w, t.student(), "canceller", 2, duration::zero(),
                                 {{"looper", looper}, {"napper", napper}}));
  if (!t.run() || !ended_cleanly(t)) return;
  // The canceller cancels at its third turn; the looper has had three by then.
  const std::vector<std::string> expected = {"looper step", "looper step", "looper step",
                                             "cancelled looper, cleaned up",
                                             "cancelled napper, cleaned up"};
  const std::vector<std::string> got = t.w->events();
  for (const auto& event : got)
    if (event.ends_with("not cleaned up")) {
      FAIL_CHECK("a cancelled task's clean-up did not run: when cancel() returned (", event,
                 ") the task's guard object was still alive. Destroy the task (its frame) in "
                 "cancel(): destroying a suspended coroutine runs the destructors of its locals, "
                 "which is how it cleans up");
      return;
    }
  if (got != expected)
    FAIL_CHECK(
        "a task yielding in a loop and one sleeping an hour, both cancelled by a third "
        "after 2 turns: the log ",
        lab::check::first_difference(expected, got), ". A cancelled task is never resumed again");
  if (t.w->virtual_ms() >= 3'600'000)
    FAIL_CHECK("run() slept until the cancelled task's deadline (", t.w->virtual_ms() / 1000,
               " s of virtual time went by): forget the sleepers of cancelled tasks before "
               "sleeping");
  for (const auto& [name, handle] : {std::pair{"looper", looper}, std::pair{"napper", napper}}) {
    try {
      handle.get();
      FAIL_CHECK("get() of the cancelled task ", name,
                 " returned a value: set cancelled in its task_state so that get() throws "
                 "task_cancelled");
    } catch (const lab::coop::task_cancelled&) {
    } catch (const std::exception& e) {
      FAIL_CHECK("get() of the cancelled task ", name, " threw \"", e.what(),
                 "\" instead of task_cancelled: set cancelled in its task_state");
    }
  }
}

TEST_CASE("cancels a task that waits for a descriptor" * doctest::skip(lab::check::stage() < 3)) {
  trial t(clock_kind::real_time);
  const int fd = add_pipe(*t.w);  // nobody writes to it
  const task_handle victim = t.spawn("victim", guarded(t.w, "victim", waits_for::a_descriptor, fd));
  t.spawn("canceller", canceller(t.w, t.student(), "canceller", 1, 20ms, {{"victim", victim}}));
  if (!t.run([&] { feed_all_pipes(*t.w); })) return;
  if (!ended_cleanly(t)) return;
  const std::vector<std::string> got = t.w->events();
  if (got != std::vector<std::string>{"cancelled victim, cleaned up"})
    FAIL_CHECK(
        "a task waiting on a pipe nobody writes, cancelled 20 ms later: the log ",
        lab::check::first_difference(std::vector<std::string>{"cancelled victim, cleaned up"}, got),
        got.size() == 1 && got[0].ends_with("not cleaned up")
            ? ". A cancelled task's clean-up did not run when cancel() returned: destroy "
              "the task (its frame) in cancel(), and stop watching its descriptor"
            : "");
}
