// A transfer seen waiting for an account's lock that the check holds.
//
// Stage 2 checks look at what a transfer does while it waits: which other
// transfers it holds up, which locks it holds meanwhile. For that the check
// holds one account's lock itself (account_mutex), starts a transfer that
// needs it on a thread of its own, and waits until that thread sleeps in
// the kernel on exactly that mutex: /proc/self/task/<tid>/syscall then
// reads "<futex> <the mutex's address> ...". That is an observation, not a
// guess from elapsed time, so it holds on a busy machine too.
//
// The transfer's thread is not joined: the check waits for `finished`
// instead, and leaves the thread behind if it never finishes (so its state
// is on the heap, shared with the thread; see watched_threads.hpp).
#pragma once

#include <lab/check.hpp>
#include <lab/progress.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <lab/check/mutex_waits.hpp>
#include <lab/check/watched_threads.hpp>

namespace waiting {

namespace watched = lab::check::watched;

using lab::check::waits_for_mutex;

// One transfer on a thread of its own.
struct lone_transfer {
  std::atomic<long> tid{0};           // relaxed: only read to find the thread in /proc
  std::atomic<bool> finished{false};  // release: `moved` is written before
  bool moved = false;                 // what the transfer returned

  bool done() const { return finished.load(std::memory_order_acquire); }
};

// Starts bank_transfer(*bank, from, to, amount) on a thread of its own.
template <typename Bank>
std::shared_ptr<lone_transfer> start(Bank* bank, int from, int to, long amount) {
  auto t = std::make_shared<lone_transfer>();
  std::thread([t, bank, from, to, amount] {
    t->tid.store(gettid(), std::memory_order_relaxed);
    t->moved = bank_transfer(*bank, from, to, amount);
    t->finished.store(true, std::memory_order_release);
  }).detach();
  return t;
}

// What became of a transfer started while the check held a lock it needs.
enum class seen {
  waiting,       // asleep on that very mutex
  went_through,  // it finished without the lock the check holds
  not_seen,      // neither, in all the patience of wait_for_progress: it waits some other way
                 // (a loop of try_lock, say), or for something else
  too_busy,      // the machine left it no chance to get there
};

struct blocked {
  std::shared_ptr<lone_transfer> transfer;
  seen what = seen::not_seen;
  lab::check::wait_report report;
};

// Starts a transfer from `from` to `to` while the caller holds `held` (the
// lock of one of the two accounts) and waits until one of the `seen` cases
// is clear. Called from the checking thread.
template <typename Bank>
blocked start_blocked(Bank* bank, int from, int to, long amount, const std::mutex& held) {
  blocked b;
  b.transfer = start(bank, from, to, amount);
  const auto& t = *b.transfer;
  b.report = lab::check::wait_for_progress(
      [&] { return t.done() || waits_for_mutex(t.tid.load(std::memory_order_relaxed), held); },
      [] { return std::uint64_t{0}; });
  if (t.done())
    b.what = seen::went_through;
  else if (b.report.result == lab::check::wait_result::done)
    b.what = seen::waiting;
  else if (b.report.result == lab::check::wait_result::too_busy)
    b.what = seen::too_busy;
  return b;
}

// Waits until every transfer in `all` finished, deciding from progress
// (how many finished so far). Called from the checking thread.
inline lab::check::wait_report wait_all(const std::vector<std::shared_ptr<lone_transfer>>& all) {
  const auto finished = [&] {
    return static_cast<std::uint64_t>(
        std::count_if(all.begin(), all.end(), [](const auto& t) { return t->done(); }));
  };
  return lab::check::wait_for_progress([&] { return finished() == all.size(); }, finished);
}

// Why the transfers in `all` that did not finish are stuck, in words that
// start a message: "deadlock: 2 transfers wait for locks never released",
// or, when some of their threads still run, that they keep running without
// finishing.
inline std::string stuck_words(const std::vector<std::shared_ptr<lone_transfer>>& all) {
  int unfinished = 0, blocked = 0;
  for (const auto& t : all) {
    if (t->done()) continue;
    ++unfinished;
    const char state = watched::thread_state(t->tid.load(std::memory_order_relaxed));
    if (state == 'S' || state == 'D') ++blocked;
  }
  const std::string count =
      std::to_string(unfinished) + (unfinished == 1 ? " transfer" : " transfers");
  const bool one = unfinished == 1;
  if (blocked == unfinished)
    return "deadlock: " + count + (one ? " waits" : " wait") + " for locks never released";
  return count + (one ? " keeps" : " keep") +
         " running without finishing (an endless loop, or try_lock that never succeeds?)";
}

}  // namespace waiting
