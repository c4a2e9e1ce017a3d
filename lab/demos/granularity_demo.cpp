// Lock granularity: one lock for everything, or one lock per piece of data.
//
// lesson: locks, slides "How many locks?" and "Coarse or fine, measured"
//
//   lock.granularity  threads make seeded random transfers between accounts,
//                     under one lock for the whole bank (coarse), then under a
//                     lock per account (fine): first with one thread, then
//                     with `threads`. With many accounts two transfers rarely
//                     need the same one, and under a lock per account they go
//                     side by side; under one lock they wait for each other.
//                     With 2 accounts every transfer needs both, nothing can
//                     overlap, and what is left is the cost of passing locks
//                     between the threads.
//
// What the figures show, and why the demo is built this way (issue 14):
// measured on a 2-core VM, this demo once printed a lock per account "1.26
// to 1.88x as fast" at accounts=2, where nothing can run in parallel. The
// cause was not false sharing (a coarse lock on a cache line of its own
// timed the same) but the scheduler: left to itself, it often put the two
// threads on one core, where they took turns and nothing was contended. The
// same coarse bank took 35 ns a transfer when that happened and 48 to 73 ns
// when the threads really ran at once, and which of the two banks got which
// decided the ratio. So each thread now runs on a core of its own, the two
// banks take turns run by run, and the demo counts what decides the race:
// how often a lock passed from one thread to the other (handoffs) and how
// often a thread slept in the kernel waiting for one (sleeps).
#include <fmt/core.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <lab/timing.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "demo.hpp"
#include "verdict.hpp"

namespace lab::demos {
namespace {

// The rest of a transfer's work under its locks (checking the accounts,
// writing the ledger): `spins` rounds of busy work.
void record_transfer(long spins) {
  for (long i = 0; i < spins; ++i) {
    volatile long sink = i;
    (void)sink;
  }
}

// One lock guards every balance.
class coarse_bank {
 public:
  coarse_bank(long accounts, long opening)
      : balances_(static_cast<std::size_t>(accounts), opening) {}

  // Called by many threads at once; from != to; `thread` numbers the caller.
  void transfer(long from, long to, long amount, long work, int thread) {
    std::scoped_lock lock(mu_);
    if (last_thread_ != thread) ++handoffs_;
    last_thread_ = thread;
    if (balances_[at(from)] < amount) return;
    record_transfer(work);
    balances_[at(from)] -= amount;
    balances_[at(to)] += amount;
  }

  // Transfers since the last call that took the lock from another thread.
  // Called only while no thread transfers (before or after a run).
  long take_handoffs() { return std::exchange(handoffs_, 0); }

  // Called only while no thread transfers.
  long total() const { return std::accumulate(balances_.begin(), balances_.end(), 0L); }

 private:
  static std::size_t at(long account) { return static_cast<std::size_t>(account); }
  std::mutex mu_;
  // guarded by mu_:
  std::vector<long> balances_;
  int last_thread_ = -1;  // the thread that held mu_ last
  long handoffs_ = 0;
};

// A lock per account. Each account sits on its own cache line (alignas), so
// that two threads working on neighbouring accounts do not slow each other
// down by false sharing (lock.false_sharing shows that effect on its own).
class fine_bank {
 public:
  fine_bank(long accounts, long opening) : accounts_(static_cast<std::size_t>(accounts)) {
    for (auto& a : accounts_) a.balance = opening;  // no other thread sees us yet
  }

  // Called by many threads at once; from != to; `thread` numbers the caller.
  // scoped_lock takes both locks without deadlock whatever order two
  // transfers name the accounts in.
  void transfer(long from, long to, long amount, long work, int thread) {
    account& source = accounts_[at(from)];
    account& target = accounts_[at(to)];
    std::scoped_lock lock(source.mu, target.mu);
    if (source.last_thread != thread || target.last_thread != thread) ++source.handoffs;
    source.last_thread = target.last_thread = thread;
    if (source.balance < amount) return;
    record_transfer(work);
    source.balance -= amount;
    target.balance += amount;
  }

  // As coarse_bank's: called only while no thread transfers.
  long take_handoffs() {
    long sum = 0;
    for (auto& a : accounts_) sum += std::exchange(a.handoffs, 0);
    return sum;
  }
  long total() const {
    long sum = 0;
    for (const auto& a : accounts_) sum += a.balance;
    return sum;
  }

 private:
  static std::size_t at(long account) { return static_cast<std::size_t>(account); }
  struct alignas(64) account {
    std::mutex mu;
    // guarded by mu:
    long balance = 0;
    int last_thread = -1;  // the thread that held mu last
    long handoffs = 0;     // transfers from this account that took a lock from another thread
  };
  std::vector<account> accounts_;  // never resized: the vector itself needs no lock
};

// Keeps the calling thread on `cpu`; if refused, it just runs unpinned.
void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// Times the calling thread slept in the kernel so far (voluntary context
// switches): a thread that finds a mutex taken sleeps until it is woken.
long sleeps_so_far() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw;
}

struct setup {
  long accounts = 0, transfers = 0, work = 0;
  unsigned seed = 0;
  std::vector<int> cpus;  // thread t runs on cpus[t % size]
};

// What one run measured, per transfer.
struct run_figures {
  double ns = 0;        // nanoseconds per transfer, all threads together
  double handoffs = 0;  // per 1000 transfers: took a lock last held by another thread
  double sleeps = 0;    // per 1000 transfers: a thread slept waiting for a lock
};

// One run: `threads` threads make `s.transfers` random transfers in all.
// Thread t draws from its own generator seeded with s.seed + t.
template <typename Bank>
run_figures run_transfers(Bank& bank, const setup& s, long threads) {
  std::atomic<long> sleeps{0};  // relaxed: join() publishes the sum
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (long t = 0; t < threads; ++t)
    workers.emplace_back([&bank, &s, &sleeps, t, threads] {
      if (!s.cpus.empty()) pin_to(s.cpus[static_cast<std::size_t>(t) % s.cpus.size()]);
      const long slept_before = sleeps_so_far();
      std::minstd_rand random(s.seed + static_cast<unsigned>(t));
      std::uniform_int_distribution<long> pick(0, s.accounts - 1), amount(1, 10);
      for (long i = 0; i < s.transfers / threads; ++i) {
        const long from = pick(random), to = pick(random);
        if (from != to) bank.transfer(from, to, amount(random), s.work, static_cast<int>(t));
      }
      sleeps.fetch_add(sleeps_so_far() - slept_before, std::memory_order_relaxed);
    });
  for (auto& worker : workers) worker.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto per_1000 = [&](long count) {
    return 1000.0 * static_cast<double>(count) / static_cast<double>(s.transfers);
  };
  return {.ns = seconds * 1e9 / static_cast<double>(s.transfers),
          .handoffs = per_1000(bank.take_handoffs()),
          .sleeps = per_1000(sleeps.load())};
}

// The medians of each figure over `runs`.
run_figures medians(const std::vector<run_figures>& runs) {
  const auto median = [&](double run_figures::*field) {
    std::vector<double> values;
    for (const auto& r : runs) values.push_back(r.*field);
    return median_of(values);
  };
  return {median(&run_figures::ns), median(&run_figures::handoffs), median(&run_figures::sleeps)};
}

// Both banks with `threads` threads: a warm-up each, then `repeats` runs
// taking turns (coarse, fine, coarse, ...) so that both see the same machine.
std::pair<run_figures, run_figures> time_both(coarse_bank& coarse, fine_bank& fine, const setup& s,
                                              long threads, int repeats) {
  run_transfers(coarse, s, threads);
  run_transfers(fine, s, threads);
  std::vector<run_figures> coarse_runs, fine_runs;
  for (int r = 0; r < repeats; ++r) {
    coarse_runs.push_back(run_transfers(coarse, s, threads));
    fine_runs.push_back(run_transfers(fine, s, threads));
  }
  return {medians(coarse_runs), medians(fine_runs)};
}

// The chance that two transfers made at the same moment need an account in
// common: 1 with 3 accounts or fewer, about 4 / accounts with many.
double collision_chance(long accounts) {
  if (accounts <= 3) return 1;
  const auto n = static_cast<double>(accounts);
  return 1 - (n - 2) * (n - 3) / (n * (n - 1));
}

// At most this chance of a collision, a lock per account should pay.
constexpr double rare_collisions = 0.1;
// The least speedup of a lock per account over one lock, then.
constexpr double fine_speedup_bound = 1.25;
// The work under the locks that the default runs with: below it, moving a
// lock's cache line between cores can cost as much as the work.
constexpr long default_work = 1000;

void print_row(const char* locking, long threads, const run_figures& f) {
  fmt::print("{:>20} {:>8} {:>12.1f} {:>9.1f} {:>7.1f}\n", locking, threads, f.ns, f.handoffs,
             f.sleeps);
}

// The lesson's claims for this run, from its figures (see run_granularity).
std::vector<claim> granularity_claims(const setup& s, long threads, const run_figures& coarse_one,
                                      const run_figures& fine_one, const run_figures& coarse_many,
                                      const run_figures& fine_many) {
  const double chance = collision_chance(s.accounts);
  if (chance >= 1)
    return {
        {.figure = fmt::format("one lock, {} threads against 1", threads),
         .value = coarse_one.ns / coarse_many.ns,
         .direction = expect::at_most,
         .bound = no_speedup_bound},
        {.figure = fmt::format("a lock per account, {} threads against 1", threads),
         .value = fine_one.ns / fine_many.ns,
         .direction = expect::at_most,
         .bound = no_speedup_bound,
         .lesson = "Every transfer needs an account another transfer holds, so none can overlap:\n"
                   "more threads are no faster, with either locking. What is left is the cost of\n"
                   "passing the locks between the cores (handoffs) and of waking a thread that\n"
                   "slept waiting (sleeps). Which bank comes out ahead depends on how often that\n"
                   "happens, not on how many locks there are."},
    };
  if (chance > rare_collisions) return {};
  return {{.figure = fmt::format("a lock per account against one lock, {} threads", threads),
           .value = coarse_many.ns / fine_many.ns,
           .bound = fine_speedup_bound,
           .parallel = static_cast<unsigned>(threads),
           .lesson = "Transfers between unrelated accounts go side by side under a lock per\n"
                     "account, while under one lock every transfer waits for every other. The\n"
                     "price shows in the 1-thread rows: two locks per transfer instead of one.",
           .known_cause = s.work < default_work
                              ? fmt::format("with {} spins of work under the locks, moving an "
                                            "account's cache line from core to core costs about "
                                            "as much as the work; try work={}",
                                            s.work, default_work)
                              : ""}};
}

int run_granularity(const params& p) {
  const long threads = p.number("threads");
  const setup s{.accounts = p.number("accounts"),
                .transfers = p.number("transfers"),
                .work = p.number("work"),
                .seed = static_cast<unsigned>(p.number("seed")),
                .cpus = usable_cpus()};
  const int repeats = 5;
  const long opening = 1'000;
  const load_watch watch;
  coarse_bank coarse(s.accounts, opening);
  fine_bank fine(s.accounts, opening);
  fmt::print(
      "{} random transfers among {} accounts (seed {}), {} spins of work under the locks each;\n"
      "1 thread, then {}, each kept on one of the {} usable cores in turn; median of {} runs,\n"
      "the banks taking turns\n\n",
      s.transfers, s.accounts, s.seed, s.work, threads, s.cpus.size(), repeats);
  fmt::print("{:>20} {:>8} {:>12} {:>9} {:>7}   (per 1000 transfers)\n", "locking", "threads",
             "ns/transfer", "handoffs", "sleeps");
  const auto [coarse_one, fine_one] = time_both(coarse, fine, s, 1, repeats);
  const auto [coarse_many, fine_many] =
      threads > 1 ? time_both(coarse, fine, s, threads, repeats) : std::pair{coarse_one, fine_one};
  print_row("one lock (coarse)", 1, coarse_one);
  if (threads > 1) print_row("one lock (coarse)", threads, coarse_many);
  print_row("a lock per account", 1, fine_one);
  if (threads > 1) print_row("a lock per account", threads, fine_many);
  std::fflush(stdout);
  const long money = s.accounts * opening;
  fmt::print("money conserved: one lock {}, a lock per account {} (at the start: {})\n",
             coarse.total() == money ? "yes" : "NO", fine.total() == money ? "yes" : "NO", money);
  fmt::print(
      "handoffs: transfers that took a lock last held by another thread (its cache line moved);\n"
      "sleeps: a thread found a lock taken and slept in the kernel until woken.\n\n");
  report_metric("fine_speedup", coarse_many.ns / fine_many.ns, "x");
  if (threads < 2) {
    fmt::print("(No verdict: one thread has nobody to wait for. Try threads=2.)\n");
    return 0;
  }
  const auto machine = watch.figures();
  const auto claims = granularity_claims(s, threads, coarse_one, fine_one, coarse_many, fine_many);
  if (claims.empty())
    fmt::print(
        "(No verdict: two transfers at once need a common account {:.0f}% of the time, between\n"
        "the lesson's two cases. Try accounts=2 and accounts=100.)\n",
        100 * collision_chance(s.accounts));
  fmt::print("{}", verdicts(claims, machine));
  return 0;
}

// A transfer needs two accounts; a million accounts take 64 MB with a lock
// and a cache line each. Each bank makes the transfers 6 times with 1 thread
// and 6 with `threads` (a warm-up and 5 timed runs): about 2 s at the
// defaults on 2 cores; 2 million transfers with 10,000 spins each take
// minutes.
const registration granularity_demo{
    {.name = "lock.granularity",
     .summary = "transfers under one lock, then under a lock per account",
     .params = {param::number("accounts", 100, {2, 1'000'000}),
                param::number("threads", 2, {1, 64}),
                param::number("transfers", 200'000, {1, 2'000'000}),
                param::number("work", default_work, {0, 10'000}),
                param::number("seed", 2024, {0, 4'294'967'295})},
     .run = run_granularity}};

}  // namespace
}  // namespace lab::demos
