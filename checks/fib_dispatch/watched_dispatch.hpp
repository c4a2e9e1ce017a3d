// One call of the student's dispatcher, with a fib that records, watched
// instead of trusted.
//
// The dispatcher is given recorded_fib<G>, a fib that records which thread
// computed which input and when, and when each of its threads ended (and
// whether it was detached then). G is the check's generation: a worker that
// a wrong dispatcher left running in an earlier check calls that check's
// function, records under that generation, and is ignored here.
//
// The call runs on a thread of its own while the checking thread watches it
// with lab::check::wait_for_progress: a dispatcher that computes nothing more
// and does not return fails once it had every chance to go on, never after
// a fixed time; a machine too busy to tell makes the check undecided.
//
// With `meet`, each call of fib waits before computing until every input's
// call has started. Workers that run at the same time meet at once; workers
// run one after the other never do: the first one's wait makes no progress,
// that is decided by evidence, and the workers are released so that the call
// can finish.
//
// A call that still does not return is left behind: watch() fails the check
// (or marks it undecided) and throws left_behind, which ends the check. The
// thread keeps only what it owns (a shared_ptr), so leaving it is safe.
#pragma once

#include <lab/check.hpp>
#include <lab/progress.hpp>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using fib_function = long (*)(long n);

namespace watched {

using clock_type = std::chrono::steady_clock;

// The slow fib of the lecture: exponential work, no I/O.
inline long slow_fib(long n) {
  return n < 2 ? n : slow_fib(n - 1) + slow_fib(n - 2);
}

// One call of the recorded fib.
struct work_record {
  long input = 0;
  std::thread::id thread;
  clock_type::time_point started, finished;
};

// One thread that called the recorded fib and has ended since.
struct thread_end {
  std::thread::id thread;
  bool detached = false;  // nobody could join it
};

// What the recorded fib saw, for the check now running.
class work_recorder {
 public:
  // Forgets the last check's records and meeting. `meet`: how many calls
  // must have started before any of them computes (0: no meeting).
  void start_generation(int generation, int meet) {
    std::scoped_lock lock(mu_);
    records_.clear();
    ends_.clear();
    generation_ = generation;
    started_ = 0;
    starters_.clear();
    meet_ = meet;
    released_ = false;
  }

  // A call of fib from generation `generation` starts: counts it, and waits
  // for the meeting if there is one. The wait polls: a waiting worker needs
  // no wake-up to be correct, and a lost one cannot hang it.
  void call_started(int generation) {
    {
      std::scoped_lock lock(mu_);
      if (generation != generation_) return;
      ++started_;
      starters_.push_back(std::this_thread::get_id());
      ++events_;
    }
    while (!may_go(generation)) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }

  void add(int generation, const work_record& record) {
    std::scoped_lock lock(mu_);
    if (generation != generation_) return;
    records_.push_back(record);
    ++events_;
  }

  void thread_ended(int generation, const thread_end& end) {
    std::scoped_lock lock(mu_);
    if (generation != generation_) return;
    ends_.push_back(end);
    ++events_;
  }

  // Lets every waiting call go on, and later ones pass.
  void release() {
    std::scoped_lock lock(mu_);
    released_ = true;
  }

  bool met() {
    std::scoped_lock lock(mu_);
    return meet_ > 0 && started_ >= meet_;
  }
  int started() {
    std::scoped_lock lock(mu_);
    return started_;
  }
  bool started_in(std::thread::id thread) {
    std::scoped_lock lock(mu_);
    return std::find(starters_.begin(), starters_.end(), thread) != starters_.end();
  }
  // Grows with every call started, finished and thread ended: progress.
  std::uint64_t events() {
    std::scoped_lock lock(mu_);
    return events_;
  }
  std::vector<work_record> records() {
    std::scoped_lock lock(mu_);
    return records_;
  }
  std::vector<thread_end> ends() {
    std::scoped_lock lock(mu_);
    return ends_;
  }

 private:
  bool may_go(int generation) {
    std::scoped_lock lock(mu_);
    return generation != generation_ || released_ || started_ >= meet_;
  }

  // All guarded by mu_.
  std::mutex mu_;
  int generation_ = -1;  // -1: nobody is looking
  std::vector<work_record> records_;
  std::vector<thread_end> ends_;
  int started_ = 0;
  std::vector<std::thread::id> starters_;  // the threads of the calls started
  int meet_ = 0;
  bool released_ = false;
  std::uint64_t events_ = 0;
};

// Never destroyed: a detached worker may still record while the program exits.
inline work_recorder& recorder = *new work_recorder;

// True if the calling thread is detached.
inline bool calling_thread_detached() {
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return false;
  int state = PTHREAD_CREATE_JOINABLE;
  pthread_attr_getdetachstate(&attributes, &state);
  pthread_attr_destroy(&attributes);
  return state == PTHREAD_CREATE_DETACHED;
}

// Tells the recorder when a thread that called fib ends. A thread's
// thread_local objects are destroyed as it ends, before join() (or a
// std::async future's get()) returns, so a joined worker has always told by
// then; a detached one tells whenever it gets there.
struct thread_end_watch {
  int generation = -1;  // of the last call this thread made; -1: none
  ~thread_end_watch() {
    if (generation < 0 || gettid() == getpid()) return;  // the main thread is nobody's worker
    recorder.thread_ended(generation, {std::this_thread::get_id(), calling_thread_detached()});
  }
};

// fib, recording which thread computed which input, when, and when it ended.
// The calling thread's watch, made on its first call of a recorded fib.
inline thread_end_watch& my_end_watch() {
  thread_local thread_end_watch watch;
  return watch;
}

template <int Generation>
long recorded_fib(long n) {
  my_end_watch().generation = Generation;
  recorder.call_started(Generation);
  work_record record;
  record.input = n;
  record.thread = std::this_thread::get_id();
  record.started = clock_type::now();
  const long result = slow_fib(n);
  record.finished = clock_type::now();
  recorder.add(Generation, record);
  return result;
}

// Thrown by watch() after it failed the check, or marked it undecided,
// and left the call running.
struct left_behind {};

using dispatcher = std::vector<long> (*)(const std::vector<long>& inputs, fib_function fib,
                                         double& seconds);

struct call_plan {
  dispatcher function = nullptr;
  std::vector<long> inputs;
  fib_function fib = nullptr;  // recorded_fib<generation>
  int generation = 0;
  // How many calls must meet before computing (0: no meeting), and how
  // long, in chance (lab/progress.hpp), the first of them may wait.
  int meet = 0;
  std::chrono::milliseconds meeting_patience = std::chrono::seconds(5);
};

struct call_result {
  std::vector<long> results;
  double seconds = -1;
  clock_type::time_point returned;   // just after it returned
  std::vector<work_record> records;  // the calls of fib finished by then
  std::vector<thread_end> ends;      // the worker threads ended by then
  std::thread::id caller;            // the thread that called the dispatcher
  std::size_t threads_before = 0;  // threads of this process before the call, the caller's included
  bool met = false;                // every call of the meeting started while the first waited
  std::string not_met;             // if not: what the meeting saw, in words
};

// "inputs 27, 30, 29, 28"
inline std::string describe(const std::vector<long>& inputs) {
  std::string shown;
  for (long n : inputs) shown += (shown.empty() ? "" : ", ") + std::to_string(n);
  return "inputs " + (shown.empty() ? std::string("none") : shown);
}

namespace detail {

// What the calling thread and the checking thread share. Owned by both (a
// shared_ptr), so that a call left behind still has it.
struct shared_call {
  std::atomic<bool> returned{false};  // release: every field below is written before
  std::vector<long> results;
  double seconds = -1;
  clock_type::time_point returned_at;
  std::vector<work_record> records;
  std::vector<thread_end> ends;
  std::exception_ptr error;
  std::atomic<std::thread::id>
      caller{};  // relaxed: set before the call, read during it for a message
  std::size_t threads_before = 0;
};

inline lab::check::wait_report wait_for_return(const shared_call& call) {
  return lab::check::wait_for_progress(
      [&call] { return call.returned.load(std::memory_order_acquire); },
      [] { return recorder.events(); });
}

// What the meeting saw when it did not complete, for a message.
inline std::string describe_meeting(const call_plan& plan, const lab::check::wait_report& meeting,
                                    bool caller_started) {
  const int started = recorder.started();
  const std::string who = "only " + std::to_string(started) + " of " + std::to_string(plan.meet) +
                          " calls of fib had started";
  if (meeting.result != lab::check::wait_result::stuck) return "it returned after " + who.substr(5);
  if (caller_started)
    return who +
           ", one of them in the calling thread, which waits there for workers that"
           " never come (" +
           meeting.describe() +
           "): let a worker thread compute every input (std::launch::async for std::async)";
  return who + " (" + meeting.describe() + ", " + std::to_string(started) +
         " waiting for the others before computing): the workers run one after the other;"
         " start every worker before waiting for any";
}

[[noreturn]] inline void leave(std::thread& runner) {
  recorder.release();
  runner.detach();
  throw left_behind{};
}

}  // namespace detail

// Calls the dispatcher as described at the top of this file. Call it from
// the checking thread.
inline call_result watch(const call_plan& plan) {
  recorder.start_generation(plan.generation, plan.meet);
  auto call = std::make_shared<detail::shared_call>();
  std::thread runner([call, plan] {
    call->caller.store(std::this_thread::get_id(), std::memory_order_relaxed);
    call->threads_before = lab::check::thread_count();
    try {
      call->results = plan.function(plan.inputs, plan.fib, call->seconds);
    } catch (...) {
      call->error = std::current_exception();
    }
    call->returned_at = clock_type::now();
    call->records = recorder.records();
    call->ends = recorder.ends();
    call->returned.store(true, std::memory_order_release);
  });

  call_result result;
  if (plan.meet > 0) {
    const auto meeting = lab::check::wait_for_progress(
        [&call] { return call->returned.load(std::memory_order_acquire) || recorder.met(); },
        [] { return recorder.events(); }, plan.meeting_patience);
    result.met = recorder.met();
    if (meeting.result == lab::check::wait_result::too_busy) {
      lab::check::undecided(meeting.describe());
      detail::leave(runner);
    }
    if (!result.met) {
      result.not_met = detail::describe_meeting(
          plan, meeting, recorder.started_in(call->caller.load(std::memory_order_relaxed)));
      recorder.release();
    }
  }

  auto report = detail::wait_for_return(*call);
  if (report.result == lab::check::wait_result::stuck) {
    const std::string why = describe(plan.inputs) + ": it did not return: " + report.describe() +
                            " after " + std::to_string(recorder.records().size()) + " of " +
                            std::to_string(plan.inputs.size()) + " calls of fib had finished";
    FAIL_CHECK(why);
    detail::leave(runner);
  }
  if (report.result == lab::check::wait_result::too_busy) {
    lab::check::undecided(report.describe());
    detail::leave(runner);
  }

  runner.join();
  if (call->error) std::rethrow_exception(call->error);
  result.results = std::move(call->results);
  result.seconds = call->seconds;
  result.returned = call->returned_at;
  result.records = std::move(call->records);
  result.ends = std::move(call->ends);
  result.caller = call->caller.load(std::memory_order_relaxed);
  result.threads_before = call->threads_before;
  return result;
}

}  // namespace watched
