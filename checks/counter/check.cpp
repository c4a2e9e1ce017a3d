// Hidden checks for the counter exercise (exercises/counter.cpp).
//
// Stage 1 checks locked_counter, stage 2 atomic_counter. Thread counts and
// increments come from the run's seed. Nothing here judges speed or sets
// itself a deadline: threads are watched for progress (watched_threads.hpp),
// so a counter that deadlocks fails with the word "deadlock", and a busy
// machine makes a check slower, never wrong. An increment that is two steps
// (a read, then a write, each locked or atomic on its own) loses updates
// only when two threads really overlap, which ThreadSanitizer cannot see; so
// one check makes them overlap, round after round (lockstep.hpp), and counts.
// The driver adds a ThreadSanitizer pass for both stages, which sees a plain
// data race even when no update happened to be lost.
#include <lab/check.hpp>
#include <lab/check/lockstep.hpp>
#include <lab/check/watched_threads.hpp>

#include <memory>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>


class locked_counter;
class atomic_counter;
void counter_increment(locked_counter& c);
long counter_value(const locked_counter& c);
void counter_increment(atomic_counter& c);
long counter_value(const atomic_counter& c);
locked_counter* make_locked_counter();
atomic_counter* make_atomic_counter();
void destroy(locked_counter* c);
void destroy(atomic_counter* c);

namespace lockstep = lab::check::lockstep;
namespace watched = lab::check::watched;

namespace {

// What a lost update means in each stage, for the messages.
const std::string lock_one_step_advice =
    "the read, the add and the write of an increment must be one step for every other thread: "
    "hold the lock across all three (one std::scoped_lock around ++count_), not around each "
    "(lesson: races)";
const std::string atomic_one_step_advice =
    "a read and a separate write back (a plain ++ of a long, or an atomic load followed by an "
    "atomic store) are two steps, and another thread can write between them; so is a "
    "compare_exchange whose failure is not retried. Use fetch_add (or ++ on a std::atomic), which "
    "reads, adds and writes in one indivisible step (lesson: races)";

// What to do about a counter that deadlocks.
const std::string deadlock_advice =
    "Every lock()ed mutex must be unlock()ed on every way out: std::scoped_lock does it for you";

// The advice for a lost update in the stage under check.
const std::string& advice() {
  return lab::check::stage() == 2 ? atomic_one_step_advice : lock_one_step_advice;
}

// Calls f(*counter), then destroys the counter. If f left threads behind
// (watched::left_behind: the check has already failed), the counter is not
// destroyed: those threads may still use it.
template <typename Counter, typename F>
void use_counter(Counter* counter, F f) {
  try {
    f(*counter);
  } catch (const watched::left_behind&) {
    return;  // leaks the counter on purpose
  }
  destroy(counter);
}

// Calls f(counter) with a fresh counter of the stage's kind (use_counter).
template <typename F>
void with_counter(F f) {
  if (lab::check::stage() == 2)
    use_counter(make_atomic_counter(), f);
  else
    use_counter(make_locked_counter(), f);
}

// Increments `counter` from `threads` watched threads, `each` times per
// thread, all starting together; returns its value. Throws left_behind (see
// watched_threads.hpp) if they get stuck.
template <typename Counter>
long count_with(Counter& counter, int threads, long each) {
  auto start = std::make_shared<lockstep::barrier>(threads);
  Counter* c = &counter;
  watched::run_watched(
      threads,
      [start, c, each](int t, watched::crew& crew) {
        start->arrive_and_wait([] {});
        for (long i = 0; i < each; ++i) {
          counter_increment(*c);
          if (i % 256 == 0) crew.step(t);  // a progress figure, cheaply
        }
      },
      {std::to_string(threads) + " threads incrementing the counter", deadlock_advice});
  return counter_value(counter);
}

}  // namespace

TEST_CASE("starts at zero") {
  with_counter([](auto& counter) { CHECK(counter_value(counter) == 0); });
}

TEST_CASE("counts every increment from a single thread") {
  with_counter([](auto& counter) {
    for (int i = 0; i < 1000; ++i) counter_increment(counter);
    CHECK(counter_value(counter) == 1000);
  });
}

TEST_CASE("counts every increment from many threads at once") {
  std::mt19937_64 random(lab::check::seed());
  const long scale = lab::check::under_tsan() ? 10 : 1;
  for (int round = 0; round < 5; ++round) {
    const int threads = std::uniform_int_distribution<int>(2, 8)(random);
    const long each = std::uniform_int_distribution<long>(20'000, 200'000)(random) / scale;
    INFO("seed ", lab::check::seed(), ": ", threads, " threads x ", each, " increments");
    bool right = false;
    with_counter([&](auto& counter) {
      const long value = count_with(counter, threads, each);
      right = value == threads * each;
      if (!right)
        FAIL_CHECK("counted ", value, " of ", threads * each, " increments (",
                   threads * each - value, " lost): ", advice());
    });
    if (!right) break;  // one round that went wrong says it all
  }
}

// Threads increment at the same moment, round after round (lockstep.hpp),
// each a few times per round, until enough rounds overlapped; after each
// round the count must be exactly what every increment so far adds up to.
// An increment made of two steps (read, then write back one more) loses
// updates here every time, even though each step is atomic or locked.
TEST_CASE("loses no increment when threads increment at the same moment") {
  const int threads = lockstep::threads_for_rounds(4);
  const long per_round = 4;  // increments per thread per round
  const long together_needed = lab::check::under_tsan() ? 100 : 400;
  const lockstep::plan plan{.threads = threads,
                            .together_needed = together_needed,
                            .most_rounds = 200 * together_needed,
                            .jitter = 16};
  with_counter([&](auto& counter) {
    using counter_type = std::remove_reference_t<decltype(counter)>;
    struct shared {
      long bad_round = -1;  // written by the end-of-round step only
      long expected = 0, counted = 0;
    };
    auto s = std::make_shared<shared>();
    counter_type* c = &counter;
    const auto result = lockstep::run_rounds(
        plan,
        [c, per_round](int, long) {
          for (long i = 0; i < per_round; ++i) counter_increment(*c);
        },
        [s, c, threads, per_round](long round) {
          // Every thread waits at the barrier: no increment is under way.
          const long expected = (round + 1) * threads * per_round;
          const long counted = counter_value(*c);
          if (counted == expected) return false;
          s->bad_round = round;
          s->expected = expected;
          s->counted = counted;
          return true;
        },
        [](int, long) {},
        {std::to_string(threads) + " threads incrementing at the same moment", deadlock_advice});
    if (s->bad_round >= 0)
      FAIL_CHECK(threads, " threads incremented ", per_round, " times each at the same moment, ",
                 "round after round; after round ", s->bad_round + 1, " the count was ", s->counted,
                 " instead of ", s->expected, " (", s->expected - s->counted,
                 std::string(s->expected - s->counted == 1 ? " increment" : " increments"),
                 " lost): ", advice());
    else if (lockstep::decided(result, plan))
      MESSAGE(lockstep::summary(result, plan));
  });
}

// What the timing table runs: `increments` increments of a fresh counter,
// split over `threads` threads that start together.
template <typename Counter>
void time_increments(Counter* counter, long increments, int threads) {
  lockstep::barrier start(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      start.arrive_and_wait([] {});
      for (long i = 0; i < increments / threads; ++i) counter_increment(*counter);
    });
  for (auto& worker : workers) worker.join();
  destroy(counter);
}

static const lab::check::timed time_stage_1{1, [](long increments, int threads) {
                                              time_increments(make_locked_counter(), increments,
                                                              threads);
                                            }};
static const lab::check::timed time_stage_2{2, [](long increments, int threads) {
                                              time_increments(make_atomic_counter(), increments,
                                                              threads);
                                            }};
