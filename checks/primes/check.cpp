// Hidden checks for the primes exercise (exercises/primes.cpp).
//
// The same checks run for every stage; the harness says which stage is under
// check (lab::check::stage()). Inputs come from the run's seed, which every
// failure message names, so `lab exercise primes --seed S` replays a failure.
#include <lab/check.hpp>
#include <lab/work_log.hpp>

#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

// The student's functions, as exercises/primes.cpp defines them.
std::vector<long> calc_primes_threads(long end, int workers);
std::vector<long> calc_primes_pool(long end, int workers);
std::vector<long> calc_primes_processes(long end, int workers);

namespace {

using calc_primes_fn = std::vector<long> (*)(long, int);

calc_primes_fn function_under_check() {
  switch (lab::check::stage()) {
    case 2:
      return calc_primes_pool;
    case 3:
      return calc_primes_processes;
    default:
      return calc_primes_threads;
  }
}

bool uses_processes() {
  return lab::check::stage() == 3;
}

// The reference answer, by the sieve of Eratosthenes.
std::vector<long> reference_primes(long end) {
  std::vector<char> composite(static_cast<std::size_t>(std::max(end, 0L)), 0);
  std::vector<long> primes;
  for (long n = 2; n < end; ++n) {
    if (composite[static_cast<std::size_t>(n)]) continue;
    primes.push_back(n);
    for (long m = n * n; m < end; m += n) composite[static_cast<std::size_t>(m)] = 1;
  }
  return primes;
}

std::string seed_note() {
  return "seed " + std::to_string(lab::check::seed());
}

// Runs the stage's function with a fresh work log and returns what it found.
std::vector<long> run_logged(long end, int workers) {
  lab::work_log::start(static_cast<std::size_t>(std::max(end, 0L)));
  return function_under_check()(end, workers);
}

}  // namespace

TEST_CASE("finds the primes below 50 with 5 workers") {
  CHECK(function_under_check()(50, 5) == reference_primes(50));
}

TEST_CASE("finds no primes below 0 or 1 or 2 and just 2 below 3") {
  for (long end : {0L, 1L, 2L, 3L}) {
    INFO("end = ", end, ", workers = 3");
    CHECK(function_under_check()(end, 3) == reference_primes(end));
  }
}

TEST_CASE("works with a single worker") {
  CHECK(function_under_check()(200, 1) == reference_primes(200));
}

TEST_CASE("works with more workers than numbers") {
  for (long end : {2L, 3L, 5L}) {
    INFO("end = ", end, ", workers = 8");
    CHECK(function_under_check()(end, 8) == reference_primes(end));
  }
}

TEST_CASE("matches a sieve for random ends up to 100000") {
  std::mt19937_64 random(lab::check::seed());
  const long big = lab::check::under_tsan() ? 3'000 : 100'000;
  std::vector<long> ends;
  for (int i = 0; i < 3; ++i) ends.push_back(std::uniform_int_distribution<long>(4, 5'000)(random));
  ends.push_back(std::uniform_int_distribution<long>(big / 2, big)(random));
  for (long end : ends) {
    const int workers = std::uniform_int_distribution<int>(2, 6)(random);
    INFO(seed_note(), ": end = ", end, ", workers = ", workers);
    CHECK(function_under_check()(end, workers) == reference_primes(end));
  }
}

TEST_CASE("tests every number below end exactly once with lab::is_prime") {
  const long end = 3'000;
  run_logged(end, 4);
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  long never = 0, twice = 0, first_bad = -1;
  for (long n = 0; n < end; ++n) {
    const auto calls = log.calls_per_number[static_cast<std::size_t>(n)];
    if (calls == 1) continue;
    (calls == 0 ? never : twice) += 1;
    if (first_bad < 0) first_bad = n;
  }
  INFO("end = 3000, workers = 4: ", never, " numbers never tested, ", twice,
       " tested more than once (first: ", first_bad, ")");
  CHECK(never + twice == 0);
  INFO("numbers outside 0..end-1 tested: ", log.out_of_range);
  CHECK(log.out_of_range == 0);
}

TEST_CASE("spreads the work over the workers instead of doing it in the caller") {
  const int workers = 4;
  run_logged(20'000, workers);
  const auto log = lab::work_log::read();
  lab::work_log::stop();

  std::set<pid_t> who;  // threads (stages 1-2) or processes (stage 3) that did work
  bool caller_worked = false;
  for (const auto& worker : log.workers) {
    if (uses_processes()) {
      caller_worked |= worker.pid == getpid();
      who.insert(worker.pid);
    } else {
      caller_worked |= worker.tid == getpid();  // the main thread's tid is the pid
      who.insert(worker.tid);
    }
  }
  const char* unit = uses_processes() ? "child processes" : "worker threads";
  INFO("the numbers were tested by ", who.size(), " ", unit, " for workers = ", workers);
  CHECK_MESSAGE(!caller_worked, "the calling ", uses_processes() ? "process" : "thread",
                " tested numbers itself; let the workers do it");
  CHECK(who.size() >= 2);
  CHECK(who.size() <= static_cast<std::size_t>(workers));
}

TEST_CASE("leaves no thread or child process running when it returns") {
  const std::size_t threads_before = lab::check::thread_count();
  function_under_check()(2'000, 5);
  const std::size_t threads_after =
      lab::check::wait_for_threads(threads_before, std::chrono::milliseconds(500));
  const auto children = lab::check::collect_children();
  INFO("threads still running: ", threads_after - std::min(threads_after, threads_before));
  CHECK(threads_after <= threads_before);
  INFO("child processes still running: ", children.running,
       "; finished but never waited for (zombies): ", children.not_waited);
  CHECK(children.running + children.not_waited == 0);
}

// What the timing table runs for each stage.
static const lab::check::timed time_stage_1{
    1, [](long end, int workers) { calc_primes_threads(end, workers); }};
static const lab::check::timed time_stage_2{
    2, [](long end, int workers) { calc_primes_pool(end, workers); }};
static const lab::check::timed time_stage_3{
    3, [](long end, int workers) { calc_primes_processes(end, workers); }};
