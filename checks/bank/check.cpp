// Hidden checks for the bank exercise (exercises/bank.cpp).
//
// Stage 1 checks coarse_bank, stage 2 fine_bank; the same checks run for
// both, and stage 2 adds two about the accounts' locks: what a waiting
// transfer holds up, and in which order a transfer takes its locks. Thread
// counts, accounts and amounts come from the run's seed, which failure
// messages name. Nothing here judges speed or sets itself a deadline: a
// check that waits for threads decides from their progress
// (watched_threads.hpp), so a deadlock fails the check it happened in with
// the word "deadlock", and a busy machine makes a check slower, never wrong.
// Mistakes that lose money only when two transfers really overlap are made
// to overlap, round after round (lockstep.hpp). The driver also runs every
// check under ThreadSanitizer, which sees races that happened to lose no
// money.
#include <lab/check.hpp>
#include <lab/check/lockstep.hpp>
#include <lab/check/watched_threads.hpp>
#include <lab/progress.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "waiting_transfer.hpp"

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

namespace lockstep = lab::check::lockstep;
namespace watched = lab::check::watched;

namespace {

// What the messages of the stage 2 checks about locks say a mistake means.
const std::string one_step_advice =
    "each saw enough money before any took it. Check the balance and take the money in one step, "
    "under one lock (lesson: locks, slide 5)";
const std::string both_locks_advice =
    "a transfer must hold both accounts' locks while it moves money";
const std::string bank_wide_lock_advice =
    "transfers between unrelated accounts waited for each other, as if a bank-wide lock were held "
    "around the accounts' locks. Take only the two accounts' locks, so that other transfers go on "
    "while one waits";
const std::string lock_range_advice =
    "it waited for the lock of an account it does not touch (locking every account numbered "
    "between the two?). Take only the two accounts' locks";
const std::string lock_order_advice =
    "which lock a transfer takes first depends on which way the money goes. Two transfers going "
    "opposite ways can then each hold one lock and wait forever for the other: a deadlock waiting "
    "to happen, even where something else (another lock, or luck) kept it from happening so far. "
    "Take the locks in one fixed order, lower account first, or together with one "
    "std::scoped_lock (lesson: locks, slide 9)";

// What to do about a deadlock in the stage under check, for the messages of
// the checks that can hit one.
std::string deadlock_advice() {
  if (lab::check::stage() == 2)
    return "Take both accounts' locks with one std::scoped_lock, or always in the same order "
           "(lower account first), whichever way the money goes (lesson: locks, slide 9)";
  return "With one lock for the whole bank, a transfer can only wait forever for a lock that was "
         "never released or that it already holds: take it once, with one std::scoped_lock, "
         "which releases it on every way out";
}

// Calls f(*bank), then destroys the bank. If f left threads behind
// (watched::left_behind: the check has already failed), the bank is not
// destroyed: those threads may still use it.
template <typename Bank, typename F>
void use_bank(Bank* bank, F f) {
  try {
    f(*bank);
  } catch (const watched::left_behind&) {
    return;  // leaks the bank on purpose
  }
  destroy(bank);
}

// Calls f(bank) with a fresh bank of the stage's kind (use_bank).
template <typename F>
void with_bank(int accounts, long opening_balance, F f) {
  if (lab::check::stage() == 2)
    use_bank(make_fine_bank(accounts, opening_balance), f);
  else
    use_bank(make_coarse_bank(accounts, opening_balance), f);
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

// Per-thread net amounts moved into each account, summed into the balances
// the accepted transfers should have left.
std::vector<long> expected_balances(const std::vector<std::vector<long>>& moved, long opening) {
  std::vector<long> expected(moved.empty() ? 0 : moved.front().size(), opening);
  for (const auto& net : moved)
    for (std::size_t a = 0; a < expected.size(); ++a) expected[a] += net[a];
  return expected;
}

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
    bool stop = true;  // unless this round gets through
    with_bank(accounts, opening, [&](auto& bank) {
      struct shared {
        std::vector<std::vector<long>> moved;  // [thread][account]: each thread writes its own
        std::atomic<int> working;              // transfer threads not finished yet
        long lowest_seen = 0;                  // written by the auditor only
      };
      auto s = std::make_shared<shared>();
      s->moved.assign(static_cast<std::size_t>(threads),
                      std::vector<long>(static_cast<std::size_t>(accounts)));
      s->working.store(threads);
      auto* b = &bank;
      watched::run_watched(
          threads + 1,  // the last one is the auditor
          [s, b, threads, accounts, opening, each, round_seed](int t, watched::crew& crew) {
            if (t == threads) {
              while (s->working.load() > 0 && !crew.abandoned.load(std::memory_order_relaxed))
                for (int a = 0; a < accounts; ++a)
                  s->lowest_seen = std::min(s->lowest_seen, bank_balance(*b, a));
              return;
            }
            std::mt19937_64 mine(round_seed + static_cast<std::uint64_t>(t));
            std::uniform_int_distribution<int> pick(0, accounts - 1);
            std::uniform_int_distribution<long> amount(1, opening);
            auto& net = s->moved[static_cast<std::size_t>(t)];
            for (long i = 0; i < each; ++i) {
              const int from = pick(mine), to = pick(mine);
              const long how_much = amount(mine);
              const bool moved = from != to && bank_transfer(*b, from, to, how_much);
              crew.step(t);
              if (!moved) continue;
              net[static_cast<std::size_t>(from)] -= how_much;
              net[static_cast<std::size_t>(to)] += how_much;
            }
            s->working.fetch_sub(1);
          },
          {std::to_string(threads) + " threads making random transfers among " +
               std::to_string(accounts) + " accounts (and one reading balances)",
           deadlock_advice()});

      const auto expected = expected_balances(s->moved, opening);
      const auto final_balances = balances(bank, accounts);
      INFO("money in the bank: ", sum(final_balances), " (it opened with ", opening * accounts,
           ")");
      check_balances(bank, expected);
      const long lowest =
          std::min(s->lowest_seen, *std::min_element(final_balances.begin(), final_balances.end()));
      if (lowest < 0) FAIL_CHECK("a balance went down to ", lowest);
      stop = final_balances != expected || lowest < 0;
    });
    if (stop) break;  // one round that went wrong says it all
  }
}

// Check-then-act: account 0 holds exactly one whole amount, and several
// threads try to take all of it at the same moment, round after round
// (lockstep.hpp), until enough rounds really overlapped. If "is there
// enough?" and "take it" are not one step, two can both see enough.
TEST_CASE("lets exactly one of many simultaneous withdrawals of a whole balance through") {
  const int threads = lockstep::threads_for_rounds(4);
  const long whole = 100;
  const long together_needed = lab::check::under_tsan() ? 100 : 400;
  const lockstep::plan plan{.threads = threads,
                            .together_needed = together_needed,
                            .most_rounds = 200 * together_needed,
                            .jitter = 32};
  with_bank(threads + 1, whole, [&](auto& bank) {
    struct shared {
      std::atomic<int> winners{0};  // this round; reset by the end-of-round step
      std::vector<char> won;        // [thread]: each thread writes its own
      long bad_round = -1;          // written by the end-of-round step only
      int bad_winners = 0;
    };
    auto s = std::make_shared<shared>();
    s->won.assign(static_cast<std::size_t>(threads), 0);
    auto* b = &bank;
    const auto result = lockstep::run_rounds(
        plan,
        [s, b, whole](int t, long) {
          const bool won = bank_transfer(*b, 0, t + 1, whole);
          s->won[static_cast<std::size_t>(t)] = won;
          if (won) s->winners.fetch_add(1, std::memory_order_relaxed);
        },
        [s](long round) {
          const int winners = s->winners.exchange(0, std::memory_order_relaxed);
          if (winners == 1) return false;
          s->bad_round = round;
          s->bad_winners = winners;
          return true;
        },
        [s, b, whole](int t, long) {  // give it back, so that every round starts alike
          if (s->won[static_cast<std::size_t>(t)]) bank_transfer(*b, t + 1, 0, whole);
        },
        {std::to_string(threads) + " threads each trying to take all of account 0",
         deadlock_advice()});
    if (s->bad_winners > 1)
      FAIL_CHECK(threads, " threads tried to take all ", whole, " of account 0 at once; in round ",
                 s->bad_round + 1, " the bank let ", s->bad_winners,
                 " of them through: ", one_step_advice);
    else if (s->bad_round >= 0)
      FAIL_CHECK(threads, " threads tried to take all ", whole, " of account 0 at once; in round ",
                 s->bad_round + 1, " the bank let none of them through, though account 0 held ",
                 whole);
    else if (lockstep::decided(result, plan))
      MESSAGE(lockstep::summary(result, plan));
    check_balances(bank, std::vector<long>(static_cast<std::size_t>(threads) + 1, whole));
  });
}

// Fine-grained locking means a transfer takes its two accounts' locks and no
// other, so that while one transfer waits for a lock, transfers between other
// accounts go on. This check holds account h's lock (through account_mutex)
// and starts a transfer from account a to h, which must wait for it
// (waiting_transfer.hpp); while that one waits, transfers between other
// pairs of accounts must go through, one after another: pairs outside a .. h
// (a bank-wide lock taken around the accounts' locks holds them up), and
// pairs numbered between or around a and h (locking every account from the
// lower number to the higher holds those up).
TEST_CASE("lets transfers between other accounts through while one transfer waits for a lock" *
          doctest::skip(lab::check::stage() < 2)) {
  std::mt19937_64 random(lab::check::seed());
  const int accounts = 12;
  const int a = std::uniform_int_distribution<int>(2, 3)(random);
  const int h = std::uniform_int_distribution<int>(7, 8)(random);
  const long amount = 10;
  struct pair {
    int from, to;
    bool outside;  // both accounts below a or above h
  };
  const std::vector<pair> pairs = {{0, 1, true},          {accounts - 1, h + 1, true},
                                   {a + 1, h - 1, false}, {h - 2, a + 1, false},
                                   {a - 1, a + 1, false}, {h - 1, h + 1, false}};
  INFO(seed_note(), ": ", accounts, " accounts; account ", h, " locked; a transfer from ", a,
       " to ", h, " waiting for it");
  use_bank(make_fine_bank(accounts, 100), [&](fine_bank& bank) {
    std::unique_lock held(account_mutex(bank, h));
    const auto first = waiting::start_blocked(&bank, a, h, amount, account_mutex(bank, h));
    std::vector<std::shared_ptr<waiting::lone_transfer>> started{first.transfer};
    bool all_through = true;
    if (first.what == waiting::seen::too_busy) {
      lab::check::undecided(first.report.describe());
      all_through = false;
    } else if (first.what == waiting::seen::went_through) {
      FAIL_CHECK("a transfer from ", a, " to ", h, " went through while this check held account ",
                 h, "'s lock: ", both_locks_advice);
      all_through = false;
    }
    // Now the first transfer waits for account h (or, if it was not seen
    // asleep on that lock, waits some other way: a loop of try_lock, say).
    for (std::size_t i = 0; all_through && i < pairs.size(); ++i) {
      const pair& p = pairs[i];
      const auto other = waiting::start(&bank, p.from, p.to, amount);
      started.push_back(other);
      const auto report = lab::check::wait_for_progress([&] { return other->done(); },
                                                        [] { return std::uint64_t{0}; });
      all_through = report.result == lab::check::wait_result::done;
      if (report.result == lab::check::wait_result::too_busy)
        lab::check::undecided(report.describe());
      else if (!all_through && p.outside)
        FAIL_CHECK("a transfer from ", p.from, " to ", p.to, " did not finish while another, from ",
                   a, " to ", h, ", waited for account ", h,
                   "'s lock (held by this check): ", bank_wide_lock_advice, "; ",
                   report.describe());
      else if (!all_through)
        FAIL_CHECK("a transfer from ", p.from, " to ", p.to,
                   " did not finish while this check held account ", h,
                   "'s lock and a transfer from ", a, " to ", h,
                   " waited for it: ", lock_range_advice, "; ", report.describe());
      else
        CHECK_MESSAGE(other->moved, "a transfer of ", amount, " from ", p.from, " to ", p.to,
                      " was refused, though account ", p.from, " held enough");
    }
    held.unlock();
    const auto report = waiting::wait_all(started);
    if (report.result != lab::check::wait_result::done) {
      if (report.result == lab::check::wait_result::too_busy)
        lab::check::undecided(report.describe());
      else
        FAIL_CHECK(waiting::stuck_words(started), ", even after this check released account ", h,
                   "'s lock; ", report.describe());
      throw watched::left_behind{};  // use_bank keeps the bank for them
    }
    if (!all_through) return;  // the verdict is in
    CHECK_MESSAGE(first.transfer->moved, "the transfer from ", a, " to ", h,
                  " was refused once account ", h, "'s lock was free");
    std::vector<long> expected(accounts, 100);
    for (const auto& p : pairs) {
      expected[static_cast<std::size_t>(p.from)] -= amount;
      expected[static_cast<std::size_t>(p.to)] += amount;
    }
    expected[static_cast<std::size_t>(a)] -= amount;
    expected[static_cast<std::size_t>(h)] += amount;
    check_balances(bank, expected);
  });
}

// A fixed lock order (lesson: locks, slide 9): which of its two locks a
// transfer takes first must not depend on which way the money goes. This
// check holds account y's lock and starts a transfer from x to y (x < y),
// later one from y to x; each must wait for y (waiting_transfer.hpp), and
// while it waits the check tries account x's lock: does the waiting transfer
// hold it? Locking the lower account first holds x both times; one
// std::scoped_lock, which never waits while holding a lock, holds it neither
// time; locking the source first holds it only when the money goes from x.
// Then two transfers going opposite ways can each hold one lock and wait for
// the other forever, even if something else (a gate lock, luck) kept them
// apart in every run so far. ThreadSanitizer reports the same mistake as a
// "lock-order-inversion", which this check states in the course's words.
TEST_CASE("takes the two locks in one order whichever way the money goes" *
          doctest::skip(lab::check::stage() < 2)) {
  std::mt19937_64 random(lab::check::seed());
  const int accounts = 6;
  const int x = std::uniform_int_distribution<int>(0, 2)(random);
  const int y = std::uniform_int_distribution<int>(3, 5)(random);
  const long amount = 10;
  INFO(seed_note(), ": accounts ", x, " and ", y, ", the check holding account ", y, "'s lock");
  use_bank(make_fine_bank(accounts, 100), [&](fine_bank& bank) {
    bool holds_x[2] = {false, false};  // [0]: the transfer from x to y; [1]: from y to x
    for (int way = 0; way < 2; ++way) {
      const int from = way == 0 ? x : y, to = way == 0 ? y : x;
      std::unique_lock held(account_mutex(bank, y));
      const auto b = waiting::start_blocked(&bank, from, to, amount, account_mutex(bank, y));
      if (b.what == waiting::seen::waiting) {
        // try_lock never waits, so the check cannot deadlock here itself.
        holds_x[way] = !account_mutex(bank, x).try_lock();
        if (!holds_x[way]) account_mutex(bank, x).unlock();
      }
      held.unlock();
      const auto report = waiting::wait_all({b.transfer});
      if (b.what == waiting::seen::too_busy || report.result == lab::check::wait_result::too_busy) {
        lab::check::undecided(b.what == waiting::seen::too_busy ? b.report.describe()
                                                                : report.describe());
        if (report.result != lab::check::wait_result::done) throw watched::left_behind{};
        return;
      }
      if (report.result == lab::check::wait_result::stuck) {
        FAIL_CHECK(waiting::stuck_words({b.transfer}), " (from ", from, " to ", to,
                   "), even after this check released account ", y, "'s lock; ", report.describe());
        throw watched::left_behind{};  // use_bank keeps the bank for it
      }
      if (b.what == waiting::seen::went_through) {
        FAIL_CHECK("a transfer from ", from, " to ", to,
                   " went through while this check held account ", y,
                   "'s lock: ", both_locks_advice);
        return;
      }
      CHECK_MESSAGE(b.transfer->moved, "a transfer of ", amount, " from ", from, " to ", to,
                    " was refused, though account ", from, " held enough");
      if (b.what == waiting::seen::not_seen) return;  // it waits some other way: no verdict here
    }
    const auto holding = [&](int way) {
      const int from = way == 0 ? x : y, to = way == 0 ? y : x;
      return "a transfer from " + std::to_string(from) + " to " + std::to_string(to) +
             (holds_x[way] ? " held" : " did not hold") + " account " + std::to_string(x) +
             "'s lock";
    };
    if (holds_x[0] != holds_x[1])
      FAIL_CHECK("while waiting for account ", y, "'s lock, ", holding(0), " but ", holding(1),
                 ": ", lock_order_advice);
    check_balances(bank, std::vector<long>(accounts, 100));
  });
}

// The classic deadlock (lesson: locks, slide 9): half the threads move money
// from A to B while the other half move it from B to A.
TEST_CASE("moves money both ways between two accounts at once without deadlock") {
  const int threads = 4;
  const long each = scaled(100'000);
  with_bank(2, 1'000, [&](auto& bank) {
    auto moved = std::make_shared<std::vector<long>>(threads, 0);  // [thread]: its own
    auto* b = &bank;
    watched::run_watched(
        threads,
        [moved, b, each](int t, watched::crew& crew) {
          const int from = t % 2, to = 1 - from;
          for (long i = 0; i < each; ++i) {
            if (bank_transfer(*b, from, to, 1)) ++(*moved)[static_cast<std::size_t>(t)];
            crew.step(t);
          }
        },
        {std::to_string(threads) + " threads moving money both ways between accounts 0 and 1",
         deadlock_advice()});
    const auto& m = *moved;
    const long a_to_b = m[0] + m[2], b_to_a = m[1] + m[3];
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
    bool stop = true;  // unless this round gets through
    with_bank(threads, 50, [&](auto& bank) {
      auto moved = std::make_shared<std::vector<std::vector<long>>>(
          static_cast<std::size_t>(threads), std::vector<long>(static_cast<std::size_t>(threads)));
      auto* b = &bank;
      watched::run_watched(threads,
                           [moved, b, threads, each, round_seed](int t, watched::crew& crew) {
                             std::mt19937_64 mine(round_seed + static_cast<std::uint64_t>(t));
                             const bool backwards = t % 3 == 2;
                             const int from = t, to = backwards ? (t + threads - 1) % threads
                                                                : (t + 1) % threads;
                             auto& net = (*moved)[static_cast<std::size_t>(t)];
                             for (long i = 0; i < each; ++i) {
                               const long amount = std::uniform_int_distribution<long>(1, 20)(mine);
                               const bool ok = bank_transfer(*b, from, to, amount);
                               crew.step(t);
                               if (!ok) continue;
                               net[static_cast<std::size_t>(from)] -= amount;
                               net[static_cast<std::size_t>(to)] += amount;
                             }
                           },
                           {"a ring of " + std::to_string(threads) +
                                " threads each moving money to the next account",
                            deadlock_advice()});
      const auto expected = expected_balances(*moved, 50);
      check_balances(bank, expected);
      stop = balances(bank, threads) != expected;
    });
    if (stop) break;
  }
}

// What the timing table runs: `transfers` random transfers of small amounts
// among 64 accounts, split over `threads` threads that start together.
template <typename Bank>
void time_transfers(Bank* bank, long transfers, int threads) {
  lockstep::barrier start(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      start.arrive_and_wait([] {});
      std::minstd_rand mine(static_cast<std::uint32_t>(t + 1));  // cheap: time the bank, not this
      for (long i = 0; i < transfers / threads; ++i) {
        const auto r = mine();
        bank_transfer(*bank, static_cast<int>(r % 64), static_cast<int>((r >> 8) % 64),
                      static_cast<long>(1 + (r >> 16) % 10));
      }
    });
  for (auto& worker : workers) worker.join();
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
