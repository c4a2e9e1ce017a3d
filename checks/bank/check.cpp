// Hidden checks for the bank exercise (exercises/bank.cpp).
//
// Stage 1 checks coarse_bank, stage 2 fine_bank; the same checks run for
// both. Thread counts, accounts and amounts come from the run's seed, which
// failure messages name. A deadlock cannot be seen from inside: it shows up
// as the run's timeout, which fails the check it happened in, and the driver
// then runs the checks after it in a fresh program. Each check's work is
// bounded so that a correct bank finishes in well under a second, even under
// ThreadSanitizer (which the driver also runs, to see races that happened to
// lose no money).
#include <lab/check.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

class coarse_bank;
class fine_bank;
coarse_bank* make_coarse_bank(int accounts, long opening_balance);
fine_bank* make_fine_bank(int accounts, long opening_balance);
bool bank_transfer(coarse_bank& bank, int from, int to, long amount);
bool bank_transfer(fine_bank& bank, int from, int to, long amount);
long bank_balance(const coarse_bank& bank, int account);
long bank_balance(const fine_bank& bank, int account);
std::mutex& account_mutex(fine_bank& bank, int account);
void destroy(coarse_bank* bank);
void destroy(fine_bank* bank);

namespace {

// Calls f(bank) with a fresh bank of the stage's kind, then destroys it.
template <typename F>
void with_bank(int accounts, long opening_balance, F f) {
  if (lab::check::stage() == 2) {
    fine_bank* bank = make_fine_bank(accounts, opening_balance);
    f(*bank);
    destroy(bank);
  } else {
    coarse_bank* bank = make_coarse_bank(accounts, opening_balance);
    f(*bank);
    destroy(bank);
  }
}

// The balances of accounts 0 .. accounts-1, read one by one.
template <typename Bank>
std::vector<long> balances(const Bank& bank, int accounts) {
  std::vector<long> result;
  for (int a = 0; a < accounts; ++a) result.push_back(bank_balance(bank, a));
  return result;
}

long sum(const std::vector<long>& values) {
  return std::accumulate(values.begin(), values.end(), 0L);
}

// "[70, 100, 130]": doctest cannot print a vector by itself.
std::string text(const std::vector<long>& values) {
  std::string joined;
  for (long v : values) joined += (joined.empty() ? "" : ", ") + std::to_string(v);
  return "[" + joined + "]";
}

// Checks the bank's balances against `expected`, naming both on failure.
template <typename Bank>
void check_balances(const Bank& bank, const std::vector<long>& expected) {
  const auto actual = balances(bank, static_cast<int>(expected.size()));
  if (actual != expected) FAIL_CHECK("balances ", text(actual), ", expected ", text(expected));
}

// Starts `threads` threads running body(t), releases them together (so that
// they really overlap), and joins them all.
template <typename F>
void run_together(int threads, F body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      body(t);
    });
  for (auto& worker : workers) worker.join();
}

// A reusable barrier that spins instead of sleeping: the threads it releases
// start within a fraction of a microsecond of each other, where a sleeping
// barrier (std::barrier) wakes them one by one, microseconds apart.
class spin_barrier {
 public:
  explicit spin_barrier(int threads) : threads_(threads) {}

  void arrive_and_wait() {
    // seq_cst throughout: the simplest order, and cheap next to the spinning.
    const long phase = phase_.load();
    if (arrived_.fetch_add(1) + 1 == threads_) {
      arrived_.store(0);    // reset before releasing: nobody arrives again until then
      phase_.fetch_add(1);  // release the others
      return;
    }
    for (int spins = 0; phase_.load() == phase; ++spins)
      if (spins > 10'000) std::this_thread::yield();  // the last thread may not be running
  }

 private:
  const int threads_;
  std::atomic<int> arrived_{0};
  std::atomic<long> phase_{0};
};

// Smaller loops under ThreadSanitizer, which makes code 5-15x slower.
long scaled(long normal) {
  return lab::check::under_tsan() ? normal / 10 : normal;
}

std::string seed_note() {
  return "seed " + std::to_string(lab::check::seed());
}

}  // namespace

TEST_CASE("opens every account with the opening balance") {
  with_bank(5, 100, [](auto& bank) { check_balances(bank, std::vector<long>(5, 100)); });
}

TEST_CASE("moves money from one account to another") {
  with_bank(3, 100, [](auto& bank) {
    CHECK(bank_transfer(bank, 0, 2, 30));
    check_balances(bank, std::vector<long>{70, 100, 130});
  });
}

TEST_CASE("refuses a transfer larger than the balance and changes nothing") {
  with_bank(2, 100, [](auto& bank) {
    CHECK_FALSE(bank_transfer(bank, 0, 1, 101));
    check_balances(bank, std::vector<long>{100, 100});
    INFO("a transfer of the whole balance is allowed");
    CHECK(bank_transfer(bank, 0, 1, 100));
    check_balances(bank, std::vector<long>{0, 200});
    CHECK_FALSE(bank_transfer(bank, 0, 1, 1));
  });
}

TEST_CASE("refuses a transfer to the same account or of nothing") {
  with_bank(2, 100, [](auto& bank) {
    CHECK_FALSE(bank_transfer(bank, 1, 1, 10));
    CHECK_FALSE(bank_transfer(bank, 0, 1, 0));
    CHECK_FALSE(bank_transfer(bank, 0, 1, -10));
    check_balances(bank, std::vector<long>{100, 100});
  });
}

// Each thread records the transfers the bank accepted; the final balances
// must be the opening ones plus exactly what those moved. An auditor thread
// reads balances meanwhile: none may ever be negative.
TEST_CASE("keeps every balance right over many concurrent random transfers") {
  std::mt19937_64 random(lab::check::seed());
  for (int round = 0; round < 4; ++round) {
    const int threads = std::uniform_int_distribution<int>(2, 6)(random);
    const int accounts = std::uniform_int_distribution<int>(2, 12)(random);
    const long opening = std::uniform_int_distribution<long>(10, 1000)(random);
    const long each = scaled(std::uniform_int_distribution<long>(20'000, 60'000)(random));
    const std::uint64_t round_seed = random();
    INFO(seed_note(), ": ", threads, " threads x ", each, " transfers among ", accounts,
         " accounts opening with ", opening);
    with_bank(accounts, opening, [&](auto& bank) {
      std::vector<std::vector<long>> moved(static_cast<std::size_t>(threads),
                                           std::vector<long>(static_cast<std::size_t>(accounts)));
      std::atomic<bool> done{false};
      long lowest_seen = 0;
      std::thread auditor([&] {
        while (!done.load())
          for (int a = 0; a < accounts; ++a)
            lowest_seen = std::min(lowest_seen, bank_balance(bank, a));
      });
      run_together(threads, [&](int t) {
        std::mt19937_64 mine(round_seed + static_cast<std::uint64_t>(t));
        std::uniform_int_distribution<int> pick(0, accounts - 1);
        std::uniform_int_distribution<long> amount(1, opening);
        auto& net = moved[static_cast<std::size_t>(t)];
        for (long i = 0; i < each; ++i) {
          const int from = pick(mine), to = pick(mine);
          const long how_much = amount(mine);
          if (from == to || !bank_transfer(bank, from, to, how_much)) continue;
          net[static_cast<std::size_t>(from)] -= how_much;
          net[static_cast<std::size_t>(to)] += how_much;
        }
      });
      done.store(true);
      auditor.join();

      std::vector<long> expected(static_cast<std::size_t>(accounts), opening);
      for (const auto& net : moved)
        for (std::size_t a = 0; a < expected.size(); ++a) expected[a] += net[a];
      const auto final_balances = balances(bank, accounts);
      INFO("money in the bank: ", sum(final_balances), " (it opened with ", opening * accounts,
           ")");
      check_balances(bank, expected);
      lowest_seen =
          std::min(lowest_seen, *std::min_element(final_balances.begin(), final_balances.end()));
      if (lowest_seen < 0) FAIL_CHECK("a balance went down to ", lowest_seen);
    });
  }
}

// Check-then-act: account 0 holds exactly one whole amount, and several
// threads try to take all of it at the same moment, round after round. If
// "is there enough?" and "take it" are not one step, two can both see enough.
TEST_CASE("lets exactly one of many simultaneous withdrawals of a whole balance through") {
  // As many threads as cores (2 to 4): more would not run at the same moment.
  const int threads = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 2, 4);
  const long whole = 100;
  const int rounds = static_cast<int>(scaled(20'000));
  with_bank(threads + 1, whole, [&](auto& bank) {
    std::vector<std::atomic<int>> winners(static_cast<std::size_t>(rounds));
    spin_barrier sync(threads);
    run_together(threads, [&](int t) {
      std::minstd_rand jitter(static_cast<std::uint32_t>(lab::check::seed()) +
                              static_cast<std::uint32_t>(t));
      for (int r = 0; r < rounds; ++r) {
        sync.arrive_and_wait();  // every thread tries at about the same moment...
        // ...give or take a few dozen nanoseconds, different each round, so
        // that over the rounds one thread's attempt lands at every point of
        // another's transfer, including any gap between its check and its act.
        for (std::atomic<unsigned> spin = static_cast<unsigned>(jitter() % 256); spin > 0;) --spin;
        const bool won = bank_transfer(bank, 0, t + 1, whole);
        if (won) winners[static_cast<std::size_t>(r)].fetch_add(1);
        sync.arrive_and_wait();  // every thread has tried
        // Give it back, so that every round starts alike.
        if (won) bank_transfer(bank, t + 1, 0, whole);
      }
    });
    int bad_rounds = 0, first_bad = -1, first_bad_winners = 0;
    for (int r = 0; r < rounds; ++r) {
      const int count = winners[static_cast<std::size_t>(r)].load();
      if (count == 1) continue;
      if (bad_rounds++ == 0) {
        first_bad = r;
        first_bad_winners = count;
      }
    }
    if (bad_rounds > 0)
      FAIL_CHECK(threads, " threads tried to take all ", whole, " of account 0 at once, ", rounds,
                 " times; in ", bad_rounds, " rounds the bank let more or less than one through (",
                 first_bad_winners, " in round ", first_bad, ")");
    check_balances(bank, std::vector<long>(threads + 1, whole));
  });
}

// Fine-grained locking means a transfer takes its two accounts' locks and no
// other. While this check holds account 0's lock, a transfer between accounts
// 1 and 2 must still go through; one that also waits for account 0 (or for
// every account) never returns, and the run times out here.
TEST_CASE("lets a transfer between two accounts through while a third account is locked") {
  if (lab::check::stage() != 2) return;  // stage 1 has one lock for all accounts by design
  fine_bank* bank = make_fine_bank(3, 100);
  {
    std::scoped_lock hold(account_mutex(*bank, 0));
    bool moved = false;
    long to_balance = 0;
    std::thread other([&] {
      moved = bank_transfer(*bank, 1, 2, 40);
      to_balance = bank_balance(*bank, 2);
    });
    other.join();
    CHECK(moved);
    CHECK(to_balance == 140);
  }
  check_balances(*bank, std::vector<long>{100, 60, 140});
  destroy(bank);
}

// The classic deadlock (lesson: locks, slide 9): half the threads move money
// from A to B while the other half move it from B to A.
TEST_CASE("moves money both ways between two accounts at once without deadlock") {
  const int threads = 4;
  const long each = scaled(100'000);
  with_bank(2, 1'000, [&](auto& bank) {
    std::vector<long> moved(threads, 0);
    run_together(threads, [&](int t) {
      const int from = t % 2, to = 1 - from;
      for (long i = 0; i < each; ++i)
        if (bank_transfer(bank, from, to, 1)) ++moved[static_cast<std::size_t>(t)];
    });
    const long a_to_b = moved[0] + moved[2], b_to_a = moved[1] + moved[3];
    INFO(threads, " threads x ", each, " transfers of 1: ", a_to_b, " from A to B, ", b_to_a,
         " from B to A");
    check_balances(bank, std::vector<long>{1'000 - a_to_b + b_to_a, 1'000 + a_to_b - b_to_a});
  });
}

// A longer cycle: thread t moves money from account t to account t + 1, and
// the last one back to account 0, so every thread holds the lock another
// wants next. Some threads also go round the other way.
TEST_CASE("moves money around rings of accounts from many threads without deadlock") {
  std::mt19937_64 random(lab::check::seed());
  for (int round = 0; round < 3; ++round) {
    const int threads = std::uniform_int_distribution<int>(3, 8)(random);
    const long each = scaled(40'000);
    const std::uint64_t round_seed = random();
    INFO(seed_note(), ": a ring of ", threads, " accounts and threads, ", each, " transfers each");
    with_bank(threads, 50, [&](auto& bank) {
      std::vector<std::vector<long>> moved(static_cast<std::size_t>(threads),
                                           std::vector<long>(static_cast<std::size_t>(threads)));
      run_together(threads, [&](int t) {
        std::mt19937_64 mine(round_seed + static_cast<std::uint64_t>(t));
        const bool backwards = t % 3 == 2;
        const int from = t, to = backwards ? (t + threads - 1) % threads : (t + 1) % threads;
        auto& net = moved[static_cast<std::size_t>(t)];
        for (long i = 0; i < each; ++i) {
          const long amount = std::uniform_int_distribution<long>(1, 20)(mine);
          if (!bank_transfer(bank, from, to, amount)) continue;
          net[static_cast<std::size_t>(from)] -= amount;
          net[static_cast<std::size_t>(to)] += amount;
        }
      });
      std::vector<long> expected(static_cast<std::size_t>(threads), 50);
      for (const auto& net : moved)
        for (std::size_t a = 0; a < expected.size(); ++a) expected[a] += net[a];
      check_balances(bank, expected);
    });
  }
}

// What the timing table runs: `transfers` random transfers of small amounts
// among 64 accounts, split over `threads` threads.
template <typename Bank>
void time_transfers(Bank* bank, long transfers, int threads) {
  run_together(threads, [&](int t) {
    std::minstd_rand mine(static_cast<std::uint32_t>(t + 1));  // cheap: time the bank, not this
    for (long i = 0; i < transfers / threads; ++i) {
      const auto r = mine();
      bank_transfer(*bank, static_cast<int>(r % 64), static_cast<int>((r >> 8) % 64),
                    static_cast<long>(1 + (r >> 16) % 10));
    }
  });
  destroy(bank);
}

static const lab::check::timed time_stage_1{1, [](long transfers, int threads) {
                                              time_transfers(make_coarse_bank(64, 1'000), transfers,
                                                             threads);
                                            }};
static const lab::check::timed time_stage_2{2, [](long transfers, int threads) {
                                              time_transfers(make_fine_bank(64, 1'000), transfers,
                                                             threads);
                                            }};
