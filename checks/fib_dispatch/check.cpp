// Hidden checks for the fib_dispatch exercise (exercises/fib_dispatch.cpp).
//
// Stage 1 checks dispatch_threads, stage 2 dispatch_async. The dispatcher is
// given a fib that records who computed which input and when (by the steady
// clock), so the checks can verify orderings, never speeds: the dispatcher
// returned after every worker had finished, and its elapsed time spans every
// worker's run. Inputs come from the run's seed, which failures name.
#include <lab/check.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using fib_function = long (*)(long n);
std::vector<long> dispatch_threads(const std::vector<long>& inputs, fib_function fib,
                                   double& seconds);
std::vector<long> dispatch_async(const std::vector<long>& inputs, fib_function fib,
                                 double& seconds);

// Lets a failed CHECK show the vectors it compared: "{55} == {0}".
template <>
struct doctest::StringMaker<std::vector<long>> {
  static doctest::String convert(const std::vector<long>& values) {
    std::string joined;
    for (long v : values) joined += (joined.empty() ? "" : ", ") + std::to_string(v);
    return ("{" + joined + "}").c_str();
  }
};

namespace {

using clock_type = std::chrono::steady_clock;

// The slow fib of the lecture: exponential work, no I/O.
long slow_fib(long n) {
  return n < 2 ? n : slow_fib(n - 1) + slow_fib(n - 2);
}

// The reference answer, computed the fast way.
long reference_fib(long n) {
  long a = 0, b = 1;
  for (long i = 0; i < n; ++i) b = std::exchange(a, b) + b;
  return a;
}

// One call of the recorded fib.
struct work_record {
  long input = 0;
  std::thread::id thread;
  clock_type::time_point started, finished;
};

// What the recorded fib saw, for the check now running. Each check that
// looks at the records names its own generation and hands the dispatcher
// recorded_fib<its generation>. A worker a stub left running (detached) in
// an earlier check may start, or finish, at any later time, but it calls
// the earlier check's function, so it records under that generation and is
// ignored here.
class work_recorder {
 public:
  void start_generation(int generation) {
    std::scoped_lock lock(mu_);
    records_.clear();
    generation_ = generation;
  }
  void add(int generation, const work_record& record) {
    std::scoped_lock lock(mu_);
    if (generation == generation_) records_.push_back(record);
  }
  std::vector<work_record> records() {
    std::scoped_lock lock(mu_);
    return records_;
  }

 private:
  std::mutex mu_;
  int generation_ = -1;               // guarded by mu_; -1: nobody is looking
  std::vector<work_record> records_;  // guarded by mu_
};

// Never destroyed: a detached worker may still record while the program exits.
work_recorder& recorder = *new work_recorder;

// fib, recording which thread computed which input and when.
template <int Generation>
long recorded_fib(long n) {
  work_record record;
  record.input = n;
  record.thread = std::this_thread::get_id();
  record.started = clock_type::now();
  const long result = slow_fib(n);
  record.finished = clock_type::now();
  recorder.add(Generation, record);
  return result;
}

// The rendezvous for "runs the workers at the same time": each call waits
// until `expected_callers` calls have arrived. Workers run one after the
// other never all arrive: the first gives up after a deadline no correct run
// comes near, says so in `gave_up`, and from then on nobody waits.
std::atomic<int> arrived{0};
std::atomic<int> expected_callers{0};
std::atomic<bool> gave_up{false};
constexpr auto rendezvous_deadline = std::chrono::seconds(10);

long fib_after_everyone_arrived(long n) {
  // seq_cst throughout: a handful of operations per worker, and the simplest
  // order to reason about.
  arrived.fetch_add(1);
  const auto give_up_at = clock_type::now() + rendezvous_deadline;
  while (arrived.load() < expected_callers.load() && !gave_up.load()) {
    if (clock_type::now() > give_up_at) gave_up.store(true);
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return slow_fib(n);
}

std::vector<long> dispatch(const std::vector<long>& inputs, fib_function fib, double& seconds) {
  if (lab::check::stage() == 2) return dispatch_async(inputs, fib, seconds);
  return dispatch_threads(inputs, fib, seconds);
}

std::vector<long> dispatch(const std::vector<long>& inputs) {
  double seconds = 0;
  return dispatch(inputs, recorded_fib<0>, seconds);
}

std::vector<long> reference(const std::vector<long>& inputs) {
  std::vector<long> results;
  for (long n : inputs) results.push_back(reference_fib(n));
  return results;
}

// Inputs big enough that a worker is still busy when a dispatcher that does
// not wait returns: fib(30) is about 1.6 million calls. Smaller under
// ThreadSanitizer, which makes every call slower.
std::vector<long> busy_inputs() {
  if (lab::check::under_tsan()) return {22, 25, 24, 23};
  return {27, 30, 29, 28};
}

std::string seed_note() {
  return "seed " + std::to_string(lab::check::seed());
}

}  // namespace

TEST_CASE("computes fib for a single input") {
  CHECK(dispatch({10}) == std::vector<long>{55});
}

TEST_CASE("returns no results for no inputs") {
  CHECK(dispatch({}).empty());
}

TEST_CASE("returns every result in input order") {
  std::mt19937_64 random(lab::check::seed());
  const long largest = lab::check::under_tsan() ? 22 : 27;
  for (int round = 0; round < 4; ++round) {
    std::vector<long> inputs(std::uniform_int_distribution<std::size_t>(2, 8)(random));
    for (auto& n : inputs) n = std::uniform_int_distribution<long>(0, largest)(random);
    std::string shown;
    for (long n : inputs) shown += (shown.empty() ? "" : ", ") + std::to_string(n);
    INFO(seed_note(), ": inputs ", shown);
    CHECK(dispatch(inputs) == reference(inputs));
  }
}

TEST_CASE("computes each input once in a worker thread and not in the caller") {
  const std::vector<long> inputs = {18, 20, 19, 21, 20};
  recorder.start_generation(1);
  double seconds = 0;
  dispatch(inputs, recorded_fib<1>, seconds);
  const auto records = recorder.records();
  std::vector<long> computed;
  bool caller_worked = false;
  for (const auto& record : records) {
    computed.push_back(record.input);
    caller_worked |= record.thread == std::this_thread::get_id();
  }
  std::sort(computed.begin(), computed.end());
  std::string shown;
  for (long n : computed) shown += (shown.empty() ? "" : ", ") + std::to_string(n);
  INFO("inputs 18, 20, 19, 21, 20; computed by the time it returned: ", shown);
  CHECK(computed == std::vector<long>{18, 19, 20, 20, 21});
  CHECK_MESSAGE(!caller_worked, "the calling thread computed fib itself; let the workers do it");
}

TEST_CASE("returns only after every worker has finished") {
  const auto inputs = busy_inputs();
  recorder.start_generation(2);
  double seconds = 0;
  const auto results = dispatch(inputs, recorded_fib<2>, seconds);
  const auto returned = clock_type::now();
  const auto records = recorder.records();  // what had finished by the time it returned
  INFO(records.size(), " of ", inputs.size(), " workers had finished when it returned");
  CHECK(records.size() == inputs.size());
  for (const auto& record : records) CHECK(record.finished <= returned);
  CHECK(results == reference(inputs));
}

// The lecture's symptom: an elapsed time "too good to be true". It must span
// from before the first worker started to after the last one finished.
TEST_CASE("reports an elapsed time that covers every worker from start to finish") {
  const auto inputs = busy_inputs();
  recorder.start_generation(3);
  double seconds = -1;
  dispatch(inputs, recorded_fib<3>, seconds);
  const auto records = recorder.records();
  REQUIRE_MESSAGE(!records.empty(), "no worker had finished when the dispatcher returned");
  auto first_start = records.front().started;
  auto last_finish = records.front().finished;
  for (const auto& record : records) {
    first_start = std::min(first_start, record.started);
    last_finish = std::max(last_finish, record.finished);
  }
  const double workers_span = std::chrono::duration<double>(last_finish - first_start).count();
  INFO("reported ", seconds, " s; the workers ran from the first start to the last finish for ",
       workers_span, " s (", records.size(), " of ", inputs.size(), " had finished)");
  CHECK(records.size() == inputs.size());
  CHECK(seconds >= workers_span);
}

TEST_CASE("leaves no thread running when it returns") {
  const std::size_t threads_before = lab::check::thread_count();
  dispatch(busy_inputs());
  const std::size_t threads_after =
      lab::check::wait_for_threads(threads_before, std::chrono::milliseconds(500));
  INFO("threads still running: ", threads_after - std::min(threads_after, threads_before));
  CHECK(threads_after <= threads_before);
}

// Last, because a dispatcher that runs the workers one after the other
// keeps the first worker waiting here for the whole deadline.
TEST_CASE("runs the workers at the same time") {
  const std::vector<long> inputs = {15, 16, 17, 18, 19, 20};
  arrived.store(0);
  gave_up.store(false);
  expected_callers.store(static_cast<int>(inputs.size()));
  double seconds = 0;
  const auto results = dispatch(inputs, fib_after_everyone_arrived, seconds);
  INFO("every worker waits until all ", inputs.size(), " have started");
  CHECK_MESSAGE(!gave_up.load(), "a worker waited ", rendezvous_deadline.count(),
                " s for the others to start: do the workers run one after the other?");
  CHECK(results == reference(inputs));
}
