// Rounds in which several threads call the student's code at the same moment.
//
// Some mistakes lose an update only when two threads are inside the same few
// instructions at once: "check the funds, then take them" as two separate
// steps, or an atomic load followed by a separate store. A long run of
// threads hammering the code catches them only by luck (on a busy machine
// the threads mostly take turns), and ThreadSanitizer cannot see them when
// each step is atomic or locked on its own. So run_rounds() makes the
// overlap happen: each thread is pinned to a CPU of its own, and round after
// round the threads wait for each other at a barrier, then all act at once,
// each a random few spins after the barrier lets them go, so that over the
// rounds every point of one call meets every point of another. A round
// counts as "together" when every thread was on its CPU at the moment the
// barrier opened (the waiting ones were still spinning). run_rounds() runs
// until enough rounds were together, so the verdict comes from counts, not
// luck: on a busy machine it only takes longer.
//
// Part of the check harness (lab_check): the bank and counter checks use it.
#pragma once

#include <lab/check.hpp>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <lab/check/watched_threads.hpp>

namespace lab::check::lockstep {

// The CPUs this process may run on (its affinity mask: a container or
// `taskset` may allow fewer than the machine has).
inline std::vector<int> usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

// How many threads to run rounds with: one per usable CPU, at least 2 and at
// most `most`. More threads than CPUs could never all act at once.
inline int threads_for_rounds(int most) {
  return std::clamp(static_cast<int>(usable_cpus().size()), 2, most);
}

// Keeps the calling thread on `cpu`. Two threads of a round left to the
// scheduler often share one CPU for long stretches on a busy machine, and
// then they only ever take turns.
inline void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);  // if refused, the thread just is not pinned
}

// A reusable barrier for threads that must leave it together. The last
// thread to arrive runs `between` (while every other one waits), then
// releases them. Waiting threads spin: when every thread is on a CPU, they
// leave within a fraction of a microsecond of each other, which is what
// makes their next steps overlap. After a while they yield the CPU between
// looks, so that the thread they wait for can have it if it shares their
// CPU. They never sleep: a sleeping thread wakes up tens of microseconds
// after it is released, too late to overlap with anybody.
class barrier {
 public:
  explicit barrier(int threads) : threads_(threads) {}

  // Returns true when this thread was on a CPU as the barrier opened: it
  // opened it, or saw it open while still spinning (not after yielding).
  template <typename Between>
  bool arrive_and_wait(Between between) {
    // Acquire: this round's phase, read before arriving, so that the
    // release below cannot be missed.
    const unsigned phase = phase_.load(std::memory_order_acquire);
    // acq_rel: the last thread to arrive sees every other thread's writes
    // before it runs `between`.
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
      arrived_.store(0, std::memory_order_relaxed);  // nobody arrives again before the release
      between();
      phase_.fetch_add(1, std::memory_order_release);  // publishes `between`'s writes
      return true;
    }
    for (int spin = 0; spin < spin_limit; ++spin)
      if (phase_.load(std::memory_order_acquire) != phase) return true;
    while (phase_.load(std::memory_order_acquire) == phase) std::this_thread::yield();
    return false;
  }

 private:
  static constexpr int spin_limit = 1 << 16;  // tens of microseconds of loads

  const int threads_;
  std::atomic<int> arrived_{0};
  std::atomic<unsigned> phase_{0};
};

// How many rounds to run.
struct plan {
  int threads = 2;           // threads_for_rounds()
  long together_needed = 0;  // rounds in which every thread was on its CPU as they were let go
  long most_rounds = 0;      // stop here even if fewer rounds were together (then: undecided)
  unsigned jitter = 0;       // each thread waits 0 .. jitter-1 spins before it acts
};

// What run_rounds() did.
struct tally {
  long rounds = 0;
  long together = 0;     // rounds in which every thread was on its CPU as they were let go
  bool stopped = false;  // end_of_round() asked to stop (it saw a mistake)
  bool one_cpu = false;  // the process may use only one CPU: its threads can only take turns
};

// Runs rounds on p.threads watched threads (watched_threads.hpp), thread t
// pinned to the t-th usable CPU, until p.together_needed rounds were
// together, p.most_rounds rounds ran, or end_of_round() returned true. (With
// a single usable CPU, it runs p.together_needed rounds and says so in
// tally::one_cpu.) In round r each thread t waits for the others, waits a
// random 0 .. p.jitter-1 spins (seeded), calls act(t, r), and waits for the
// others again; then the last one to arrive calls end_of_round(r) alone,
// and each thread calls tidy(t, r) (say, to give back what it took, so that
// every round starts alike). Every callable is called on the watched
// threads, so it must capture its state by value. Throws what run_watched
// throws; called from the checking thread.
template <typename Act, typename EndOfRound, typename Tidy>
tally run_rounds(const plan& p, Act act, EndOfRound end_of_round, Tidy tidy,
                 const watched::watch_plan& watch) {
  struct shared_state {
    explicit shared_state(int threads) : sync(threads) {}
    barrier sync;
    // Some thread of this round was off its CPU as the barrier opened.
    // Relaxed: the second barrier of the round orders it before the end of
    // the round, which reads and clears it.
    std::atomic<bool> someone_late{false};
    std::atomic<bool> stop{false};  // written at the end of a round; the barrier publishes it
    tally result;                   // written only at the end of a round
  };
  auto s = std::make_shared<shared_state>(p.threads);
  const std::vector<int> cpus = usable_cpus();
  s->result.one_cpu = cpus.size() < 2;
  const std::uint64_t seed = lab::check::seed();
  watched::run_watched(
      p.threads,
      [s, p, seed, cpus, act, end_of_round, tidy](int t, watched::crew& crew) {
        if (!s->result.one_cpu) pin_to(cpus[static_cast<std::size_t>(t) % cpus.size()]);
        std::minstd_rand jitter(static_cast<std::uint32_t>(seed + static_cast<std::uint64_t>(t)));
        const auto end_step = [&](long r) {
          tally& result = s->result;
          ++result.rounds;
          if (!s->someone_late.exchange(false, std::memory_order_relaxed)) ++result.together;
          result.stopped = end_of_round(r);
          const bool enough = result.one_cpu ? result.rounds >= p.together_needed
                                             : result.together >= p.together_needed;
          s->stop.store(result.stopped || enough || result.rounds >= p.most_rounds,
                        std::memory_order_relaxed);
        };
        for (long r = 0;; ++r) {
          const unsigned wait = p.jitter > 0 ? static_cast<unsigned>(jitter()) % p.jitter : 0;
          // The last round's tidying is done everywhere.
          if (!s->sync.arrive_and_wait([] {}))
            s->someone_late.store(true, std::memory_order_relaxed);
          // A local atomic, so that the compiler keeps the spins.
          for (std::atomic<unsigned> spin = wait; spin.load(std::memory_order_relaxed) > 0;)
            spin.fetch_sub(1, std::memory_order_relaxed);
          act(t, r);
          s->sync.arrive_and_wait([&] { end_step(r); });
          tidy(t, r);
          crew.step(t);
          if (s->stop.load(std::memory_order_relaxed)) break;
        }
      },
      watch);
  return s->result;  // the threads were joined: their writes come before this read
}

// True when the rounds could judge the code: end_of_round() saw a mistake,
// enough rounds were together, or there is one CPU only (nothing more can be
// done). If the machine kept the threads off their CPUs at the moments that
// count too often, marks the check undecided, saying so, and returns false.
inline bool decided(const tally& t, const plan& p) {
  if (t.stopped || t.one_cpu || t.together >= p.together_needed) return true;
  lab::check::undecided("the machine was too busy to decide: its " + std::to_string(p.threads) +
                        " threads were on their CPUs at the same moment in only " +
                        std::to_string(t.together) + " of " + std::to_string(t.rounds) +
                        " rounds (" + std::to_string(p.together_needed) + " needed)");
  return false;
}

// What the rounds amounted to, for a passing check's note: "2 threads on 2
// CPUs acted at the same moment in 400 of 403 rounds".
inline std::string summary(const tally& t, const plan& p) {
  if (t.one_cpu)
    return std::to_string(p.threads) + " threads took turns on the only usable CPU for " +
           std::to_string(t.rounds) + " rounds";
  return std::to_string(p.threads) + " threads on " + std::to_string(p.threads) +
         " CPUs acted at the same moment in " + std::to_string(t.together) + " of " +
         std::to_string(t.rounds) + " rounds";
}

}  // namespace lab::check::lockstep
