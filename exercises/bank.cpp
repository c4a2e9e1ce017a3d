// Exercise: bank                                     lesson: locks (`bin/lab lesson locks`)
//
// Goal: a bank whose accounts many threads transfer money between at once,
// where no money is ever created or lost, no balance ever goes below zero,
// and no transfer ever waits forever.
//   1. coarse_bank  one std::mutex for the whole bank       (coarse-grained)
//   2. fine_bank    a std::mutex per account, and no deadlock (fine-grained)
//
// transfer(from, to, amount) moves `amount` from account `from` to account
// `to` and returns true, or refuses and returns false, changing nothing, when
// `from` holds less than `amount` (also when from == to or amount <= 0).
// balance(account) may be called while transfers run.
//
// As written, stage 1 takes no lock at all: two transfers can interleave
// their reads and writes of the same balance, and "check the funds, then take
// the money" is not one step. Stage 2 has a lock per account but takes the two
// locks one after the other: run it and see what happens when one thread
// moves money from A to B while another moves money from B to A.
//
// Run the checks:  bin/lab exercise bank          (or --stage 2)
// Stuck?           bin/lab hint bank
// Then compare one lock against a lock per account in the timing table.
#include <mutex>
#include <vector>

// Stage 1: one lock for the whole bank.
class coarse_bank {
 public:
  coarse_bank(int accounts, long opening_balance)
      : balances_(static_cast<std::size_t>(accounts), opening_balance) {}

  // Called by many threads at once.
  bool transfer(int from, int to, long amount) {
    if (from == to || amount <= 0) return false;
    // TODO: take a lock here, so that the check below and the two updates
    // after it happen as one step for every other thread (std::scoped_lock).
    if (balances_[index(from)] < amount) return false;
    balances_[index(from)] -= amount;
    balances_[index(to)] += amount;
    return true;
  }

  // Called while transfers run, too.
  long balance(int account) const {
    // TODO: a read of shared data needs the lock as well.
    return balances_[index(account)];
  }

 private:
  static std::size_t index(int account) { return static_cast<std::size_t>(account); }

  // TODO: add a std::mutex, and say in a comment what it guards.
  std::vector<long> balances_;
};

// Stage 2: a lock per account.
class fine_bank {
 public:
  fine_bank(int accounts, long opening_balance) : accounts_(static_cast<std::size_t>(accounts)) {
    for (auto& a : accounts_) a.balance = opening_balance;
  }

  // Called by many threads at once.
  bool transfer(int from, int to, long amount) {
    if (from == to || amount <= 0) return false;
    account& source = accounts_[index(from)];
    account& target = accounts_[index(to)];
    // TODO: this can deadlock. A thread moving money from A to B holds A and
    // waits for B while another, moving money from B to A, holds B and waits
    // for A. Take both locks without that risk.
    std::scoped_lock lock_source(source.mu);
    std::scoped_lock lock_target(target.mu);
    if (source.balance < amount) return false;
    source.balance -= amount;
    target.balance += amount;
    return true;
  }

  // Called while transfers run, too.
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
  std::vector<account> accounts_;  // the vector never changes size after construction
};

// The checks call these; leave them as they are.
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
