// Lock granularity: one lock for everything, or one lock per piece of data.
//
// lesson: locks, slide "Coarse or fine"
//
//   lock.granularity  threads make random transfers between accounts. With
//                     one lock for the whole bank (coarse), every transfer
//                     waits for every other. With a lock per account (fine),
//                     transfers between different accounts go side by side,
//                     at the price of two locks per transfer.
#include <fmt/core.h>
#include <lab/timing.hpp>

#include <mutex>
#include <numeric>
#include <random>
#include <thread>
#include <vector>

#include "demo.hpp"

namespace lab::demos {
namespace {

// The rest of a transfer's work under its locks (checking the accounts,
// writing the ledger): `spins` rounds of busy work. Long enough that the
// lock, not the cache traffic, decides how fast transfers go.
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

  // Called by many threads at once; from != to.
  void transfer(long from, long to, long amount, long work) {
    std::scoped_lock lock(mu_);
    if (balances_[at(from)] < amount) return;
    record_transfer(work);
    balances_[at(from)] -= amount;
    balances_[at(to)] += amount;
  }

  // Called after every thread has been joined.
  long total() const { return std::accumulate(balances_.begin(), balances_.end(), 0L); }

 private:
  static std::size_t at(long account) { return static_cast<std::size_t>(account); }
  std::mutex mu_;
  std::vector<long> balances_;  // guarded by mu_
};

// A lock per account. Each account sits on its own cache line (alignas), so
// that two threads working on neighbouring accounts do not slow each other
// down by false sharing (lock.false_sharing shows that effect on its own).
class fine_bank {
 public:
  fine_bank(long accounts, long opening) : accounts_(static_cast<std::size_t>(accounts)) {
    for (auto& a : accounts_) a.balance = opening;  // no other thread sees us yet
  }

  // Called by many threads at once; from != to. scoped_lock takes both locks
  // without deadlock whatever order two transfers name the accounts in.
  void transfer(long from, long to, long amount, long work) {
    account& source = accounts_[at(from)];
    account& target = accounts_[at(to)];
    std::scoped_lock lock(source.mu, target.mu);
    if (source.balance < amount) return;
    record_transfer(work);
    source.balance -= amount;
    target.balance += amount;
  }

  // Called after every thread has been joined.
  long total() const {
    long sum = 0;
    for (const auto& a : accounts_) sum += a.balance;
    return sum;
  }

 private:
  static std::size_t at(long account) { return static_cast<std::size_t>(account); }
  struct alignas(64) account {
    std::mutex mu;
    long balance = 0;  // guarded by mu
  };
  std::vector<account> accounts_;  // never resized: the vector itself needs no lock
};

// Seconds per transfer when `threads` threads make `transfers` random
// transfers in all. Thread t draws from its own generator seeded with seed + t.
template <typename Bank>
double seconds_per_transfer(Bank& bank, long accounts, long threads, long transfers, long work,
                            unsigned seed) {
  const double seconds = median_of(time_repeats(3, [&] {
    std::vector<std::thread> workers;
    for (long t = 0; t < threads; ++t)
      workers.emplace_back([&, t] {
        std::minstd_rand random(seed + static_cast<unsigned>(t));
        std::uniform_int_distribution<long> pick(0, accounts - 1), amount(1, 10);
        for (long i = 0; i < transfers / threads; ++i) {
          const long from = pick(random), to = pick(random);
          if (from != to) bank.transfer(from, to, amount(random), work);
        }
      });
    for (auto& worker : workers) worker.join();
  }));
  return seconds / static_cast<double>(transfers);
}

int run_granularity(const params& p) {
  const long accounts = p.number("accounts");
  const long threads = p.number("threads");
  const long transfers = p.number("transfers");
  const long work = p.number("work");
  const auto seed = static_cast<unsigned>(p.number("seed"));
  const long opening = 1'000;
  coarse_bank coarse(accounts, opening);
  fine_bank fine(accounts, opening);
  fmt::print(
      "{} threads, {} random transfers among {} accounts (seed {}), {} spins of work under the\n"
      "locks each; median of 3 runs after a warm-up\n\n",
      threads, transfers, accounts, seed, work);
  const double coarse_ns =
      1e9 * seconds_per_transfer(coarse, accounts, threads, transfers, work, seed);
  const double fine_ns = 1e9 * seconds_per_transfer(fine, accounts, threads, transfers, work, seed);
  fmt::print("{:>22} {:>14} {:>16}\n", "locking", "ns/transfer", "money at the end");
  fmt::print("{:>22} {:>14.1f} {:>16}\n", "one lock (coarse)", coarse_ns, coarse.total());
  fmt::print("{:>22} {:>14.1f} {:>16}\n", "a lock per account", fine_ns, fine.total());
  fmt::print("a lock per account is {:.2f}x as fast; money at the start: {}\n", coarse_ns / fine_ns,
             accounts * opening);
  fmt::print("money conserved: one lock {}, a lock per account {}\n",
             coarse.total() == accounts * opening ? "yes" : "NO",
             fine.total() == accounts * opening ? "yes" : "NO");
  fmt::print(
      "\nFine-grained locking pays when threads rarely need the same account: they rarely wait\n"
      "for each other, so their work overlaps. A busy single lock also costs more than the lost\n"
      "overlap: a thread that finds it taken sleeps in the kernel until it is woken, which is\n"
      "why the gap can be larger than the number of cores. With few accounts (try accounts=2)\n"
      "transfers collide anyway, and the second lock is pure cost.\n");
  report_metric("fine_speedup", coarse_ns / fine_ns, "x");
  return 0;
}

// A transfer needs two accounts; a million accounts take 64 MB with a lock
// and a cache line each. The transfers are shared out among the threads, and
// each bank makes them 4 times: a million transfers with 2,000 spins of work
// each take about 15 s under one lock.
const registration granularity_demo{
    {.name = "lock.granularity",
     .summary = "transfers under one lock, then under a lock per account",
     .params = {param::number("accounts", 100, {2, 1'000'000}),
                param::number("threads", 2, {1, 64}),
                param::number("transfers", 1'000'000, {1, 10'000'000}),
                param::number("work", 100, {0, 2'000}),
                param::number("seed", 2024, {0, 4'294'967'295})},
     .run = run_granularity}};

}  // namespace
}  // namespace lab::demos
