// Hidden checks for the counter exercise (exercises/counter.cpp).
//
// Stage 1 checks locked_counter, stage 2 atomic_counter. Thread counts and
// increments come from the run's seed; the driver adds a ThreadSanitizer pass
// for both stages, which sees a race even when no update happened to be lost.
#include <lab/check.hpp>

#include <atomic>
#include <random>
#include <string>
#include <thread>
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

namespace {

// Increments a fresh counter of the stage's kind from `threads` threads,
// `each` times per thread, all starting together; returns its value.
template <typename Counter>
long count_with(Counter* counter, int threads, long each) {
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();  // start together
      for (long i = 0; i < each; ++i) counter_increment(*counter);
    });
  for (auto& worker : workers) worker.join();
  const long value = counter_value(*counter);
  destroy(counter);
  return value;
}

long count(int threads, long each) {
  if (lab::check::stage() == 2) return count_with(make_atomic_counter(), threads, each);
  return count_with(make_locked_counter(), threads, each);
}

}  // namespace

TEST_CASE("starts at zero") {
  CHECK(count(1, 0) == 0);
}

TEST_CASE("counts every increment from a single thread") {
  CHECK(count(1, 1000) == 1000);
}

TEST_CASE("counts every increment from many threads at once") {
  std::mt19937_64 random(lab::check::seed());
  const long scale = lab::check::under_tsan() ? 10 : 1;
  for (int round = 0; round < 5; ++round) {
    const int threads = std::uniform_int_distribution<int>(2, 8)(random);
    const long each = std::uniform_int_distribution<long>(20'000, 200'000)(random) / scale;
    INFO("seed ", lab::check::seed(), ": ", threads, " threads x ", each, " increments");
    CHECK(count(threads, each) == threads * each);
  }
}

static const lab::check::timed time_stage_1{1, [](long increments, int threads) {
                                              count_with(make_locked_counter(), threads,
                                                         increments / threads);
                                            }};
static const lab::check::timed time_stage_2{2, [](long increments, int threads) {
                                              count_with(make_atomic_counter(), threads,
                                                         increments / threads);
                                            }};
