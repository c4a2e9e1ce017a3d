// Solution: bank                                     lesson: locks (`bin/lab lesson locks`)
//
// Two ways to make transfers safe for many threads. Run `bin/lab solution
// bank` and compare them in the timing table: with one lock, every transfer
// waits for every other; with a lock per account, transfers between unrelated
// accounts run side by side, at the price of taking two locks per transfer.
#include <mutex>
#include <vector>

// Stage 1: one lock for the whole bank (coarse-grained; lesson: locks, slide 8).
class coarse_bank {
 public:
  coarse_bank(int accounts, long opening_balance)
      : balances_(static_cast<std::size_t>(accounts), opening_balance) {}

  // Called by many threads at once. The check ("is there enough?") and the
  // act (take it, give it) happen under one lock, so no other transfer can
  // spend the same money between them (lesson: locks, slide 5).
  bool transfer(int from, int to, long amount) {
    if (from == to || amount <= 0) return false;  // touches no shared data: no lock needed
    std::scoped_lock lock(mu_);                   // unlocks at the brace, on every way out
    if (balances_[index(from)] < amount) return false;
    balances_[index(from)] -= amount;
    balances_[index(to)] += amount;
    return true;
  }

  // Called while transfers run: a read of guarded data takes the lock too,
  // or it races with the writes (lesson: locks, slide 6).
  long balance(int account) const {
    std::scoped_lock lock(mu_);
    return balances_[index(account)];
  }

 private:
  static std::size_t index(int account) { return static_cast<std::size_t>(account); }

  mutable std::mutex mu_;       // mutable: balance() is const but must lock
  std::vector<long> balances_;  // guarded by mu_ (the elements; the size never changes)
};

// Stage 2: a lock per account (fine-grained; lesson: locks, slides 8 and 9).
class fine_bank {
 public:
  fine_bank(int accounts, long opening_balance) : accounts_(static_cast<std::size_t>(accounts)) {
    for (auto& a : accounts_) a.balance = opening_balance;  // no other thread sees us yet
  }

  // Called by many threads at once. A transfer needs both accounts' locks,
  // and taking two locks one after the other can deadlock: a thread moving
  // money from A to B holds A and waits for B while another, moving money
  // from B to A, holds B and waits for A.
  //
  // std::scoped_lock with two mutexes locks them with std::lock's
  // deadlock-avoidance algorithm: it never waits for one mutex while holding
  // the other (it backs off and retries), so no cycle of waiting threads can
  // form, whatever order the callers name the accounts in. The other classic
  // cure is lock ordering: always lock the account with the lower index first.
  // Then no thread can hold a higher-numbered lock while waiting for a lower
  // one, so a cycle is impossible too. Ordering needs every piece of code that
  // takes two locks to agree on the order; scoped_lock needs no agreement.
  bool transfer(int from, int to, long amount) {
    // from == to would lock the same mutex twice, which is undefined behaviour
    // for a std::mutex (in practice: a thread waiting for itself forever).
    if (from == to || amount <= 0) return false;
    account& source = accounts_[index(from)];
    account& target = accounts_[index(to)];
    std::scoped_lock lock(source.mu, target.mu);
    if (source.balance < amount) return false;  // check and act under the same locks
    source.balance -= amount;
    target.balance += amount;
    return true;
  }

  // Called while transfers run; one account needs only its own lock.
  long balance(int account) const {
    const auto& a = accounts_[index(account)];
    std::scoped_lock lock(a.mu);
    return a.balance;
  }

  // The checks use this to hold one account's lock themselves.
  std::mutex& mutex_of(int account) { return accounts_[index(account)].mu; }

 private:
  static std::size_t index(int account) { return static_cast<std::size_t>(account); }

  struct account {
    mutable std::mutex mu;
    long balance = 0;  // guarded by mu
  };
  std::vector<account> accounts_;  // never resized after construction, so no lock guards it
};

// The checks call these.
coarse_bank* make_coarse_bank(int accounts, long opening_balance) {
  return new coarse_bank(accounts, opening_balance);
}
fine_bank* make_fine_bank(int accounts, long opening_balance) {
  return new fine_bank(accounts, opening_balance);
}
bool bank_transfer(coarse_bank& bank, int from, int to, long amount) {
  return bank.transfer(from, to, amount);
}
bool bank_transfer(fine_bank& bank, int from, int to, long amount) {
  return bank.transfer(from, to, amount);
}
long bank_balance(const coarse_bank& bank, int account) {
  return bank.balance(account);
}
long bank_balance(const fine_bank& bank, int account) {
  return bank.balance(account);
}
std::mutex& account_mutex(fine_bank& bank, int account) {
  return bank.mutex_of(account);
}
void destroy(coarse_bank* bank) {
  delete bank;
}
void destroy(fine_bank* bank) {
  delete bank;
}
