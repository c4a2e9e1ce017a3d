#include "lab/work_log.hpp"

#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <new>
#include <system_error>

namespace lab::work_log {
namespace {

constexpr std::size_t max_workers = 512;

// How long a worker that waits for the others of a meeting sleeps between
// two looks. It only waits for threads or processes to start.
constexpr timespec meeting_poll{0, 200'000};  // 0.2 ms

struct worker_slot {
  // 0 while free; otherwise (pid << 32 | tid). Claimed once, with a CAS.
  std::atomic<std::uint64_t> key{0};
  std::atomic<std::uint64_t> calls{0};
  std::atomic<std::int64_t> first_call_ns{0};
  std::atomic<std::int64_t> last_call_ns{0};
  std::atomic<bool> ended{false};
  std::atomic<bool> detached{false};
};

// The shared region: this header, then one counter per number.
// All updates are relaxed: nobody reads the log for a verdict while workers
// still run; the reader is ordered after them by join() or waitpid(), which
// are synchronising operations. The progress figures read while they run
// (calls, workers_seen, meeting) order nothing: they only say whether
// something moved, and when a waiting worker may go on.
struct region {
  std::size_t end = 0;
  std::atomic<std::uint64_t> out_of_range{0};
  std::atomic<bool> overflowed{false};
  std::atomic<std::uint64_t> calls{0};       // every call, in range or not
  std::atomic<std::size_t> workers_seen{0};  // slots claimed
  std::atomic<std::size_t> meeting{0};       // workers that must meet; 0: no meeting
  std::atomic<bool> released{false};         // release() was called
  worker_slot workers[max_workers];
  // std::atomic<std::uint32_t> counts[end] follows.
};

// The log in use, or nullptr. Written only by start() and stop(); read by
// every worker. Release/acquire: a worker that is already running when a
// new log starts (a thread a wrong submission left behind) must see the new
// region initialised. Regions are never unmapped (see stop() in the header).
std::atomic<region*> log_region{nullptr};

std::atomic<std::uint32_t>* counts(region* r) {
  return reinterpret_cast<std::atomic<std::uint32_t>*>(r + 1);
}

std::uint64_t my_key() {
  const auto pid = static_cast<std::uint64_t>(getpid());
  const auto tid = static_cast<std::uint64_t>(gettid());
  return (pid << 32) | (tid & 0xffffffffu);
}

std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// Finds the calling worker's slot, claiming a free one on first use (and
// then setting `claimed`). Returns nullptr when all slots are taken.
worker_slot* my_slot(region* r, bool& claimed) {
  const std::uint64_t key = my_key();
  for (auto& slot : r->workers) {
    std::uint64_t seen = slot.key.load(std::memory_order_relaxed);
    if (seen == key) return &slot;
    if (seen == 0) {
      // Relaxed is enough: the slot's identity is only read after the run.
      if (slot.key.compare_exchange_strong(seen, key, std::memory_order_relaxed)) {
        claimed = true;
        return &slot;
      }
      if (seen == key) return &slot;
    }
  }
  return nullptr;
}

// True if the calling thread is detached. The main thread counts as joined:
// nobody joins it, and it is not one of the workers a check starts.
bool calling_thread_detached() {
  if (gettid() == getpid()) return false;
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return false;
  int state = PTHREAD_CREATE_JOINABLE;
  pthread_attr_getdetachstate(&attributes, &state);
  pthread_attr_destroy(&attributes);
  return state == PTHREAD_CREATE_DETACHED;
}

// Marks a worker's slot when its thread ends. A thread's thread_local
// objects are destroyed as it ends, before join() returns, so a joined
// worker is always marked by then. A forked child inherits its parent
// thread's copy, with a key that is not its own: it marks nothing.
struct thread_end_watch {
  worker_slot* slot = nullptr;  // in the last log this thread worked for
  std::uint64_t key = 0;        // whose slot it is
  ~thread_end_watch() {
    if (slot == nullptr || key != my_key()) return;
    slot->detached.store(calling_thread_detached(), std::memory_order_relaxed);
    slot->ended.store(true, std::memory_order_relaxed);
  }
};

// The calling thread's watch, made on its first use (function-local, so
// that threads that never work for a log never make one).
thread_end_watch& my_end_watch() {
  thread_local thread_end_watch watch;
  return watch;
}

// In a meeting, waits until every worker of it has arrived or release().
void wait_for_the_meeting(region* r) {
  const std::size_t size = r->meeting.load(std::memory_order_relaxed);
  if (size == 0) return;
  while (r->workers_seen.load(std::memory_order_relaxed) < size &&
         !r->released.load(std::memory_order_relaxed))
    nanosleep(&meeting_poll, nullptr);
}

// A worker's first call: when it began, its end watch, and the meeting.
void first_call(region* r, worker_slot* slot) {
  slot->first_call_ns.store(monotonic_ns(), std::memory_order_relaxed);
  thread_end_watch& watch = my_end_watch();
  watch.slot = slot;
  watch.key = my_key();
  r->workers_seen.fetch_add(1, std::memory_order_relaxed);
  wait_for_the_meeting(r);
}

}  // namespace

void start(std::size_t end) {
  stop();
  const std::size_t bytes = sizeof(region) + end * sizeof(std::atomic<std::uint32_t>);
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED)
    throw std::system_error(errno, std::generic_category(), "work_log mmap");
  region* fresh = new (memory) region;  // anonymous mappings are zero-filled
  fresh->end = end;
  for (std::size_t i = 0; i < end; ++i) new (&counts(fresh)[i]) std::atomic<std::uint32_t>(0);
  log_region.store(fresh, std::memory_order_release);
}

void record(long n) {
  region* r = log_region.load(std::memory_order_acquire);
  if (r == nullptr) return;
  if (n < 0 || static_cast<std::size_t>(n) >= r->end) {
    r->out_of_range.fetch_add(1, std::memory_order_relaxed);
  } else {
    counts(r)[n].fetch_add(1, std::memory_order_relaxed);
  }
  r->calls.fetch_add(1, std::memory_order_relaxed);
  bool claimed = false;
  worker_slot* slot = my_slot(r, claimed);
  if (slot == nullptr) {
    r->overflowed.store(true, std::memory_order_relaxed);
    return;
  }
  if (claimed) first_call(r, slot);
  slot->last_call_ns.store(monotonic_ns(), std::memory_order_relaxed);
  slot->calls.fetch_add(1, std::memory_order_relaxed);
}

void meet(int workers) {
  region* r = log_region.load(std::memory_order_acquire);
  if (r == nullptr || workers <= 0) return;
  r->meeting.store(static_cast<std::size_t>(workers), std::memory_order_relaxed);
}

void release() {
  if (region* r = log_region.load(std::memory_order_acquire))
    r->released.store(true, std::memory_order_relaxed);
}

std::uint64_t calls_so_far() {
  region* r = log_region.load(std::memory_order_acquire);
  return r == nullptr ? 0 : r->calls.load(std::memory_order_relaxed);
}

std::size_t workers_so_far() {
  region* r = log_region.load(std::memory_order_acquire);
  return r == nullptr ? 0 : r->workers_seen.load(std::memory_order_relaxed);
}

bool met() {
  region* r = log_region.load(std::memory_order_acquire);
  if (r == nullptr) return false;
  const std::size_t size = r->meeting.load(std::memory_order_relaxed);
  return size > 0 && r->workers_seen.load(std::memory_order_relaxed) >= size;
}

summary read() {
  summary result;
  region* r = log_region.load(std::memory_order_acquire);
  if (r == nullptr) return result;
  result.calls_per_number.resize(r->end);
  for (std::size_t i = 0; i < r->end; ++i)
    result.calls_per_number[i] = counts(r)[i].load(std::memory_order_relaxed);
  result.out_of_range = r->out_of_range.load(std::memory_order_relaxed);
  result.workers_overflowed = r->overflowed.load(std::memory_order_relaxed);
  for (const auto& slot : r->workers) {
    const std::uint64_t key = slot.key.load(std::memory_order_relaxed);
    if (key == 0) break;
    worker w;
    w.pid = static_cast<pid_t>(key >> 32);
    w.tid = static_cast<pid_t>(key & 0xffffffffu);
    w.calls = slot.calls.load(std::memory_order_relaxed);
    w.first_call_ns = slot.first_call_ns.load(std::memory_order_relaxed);
    w.last_call_ns = slot.last_call_ns.load(std::memory_order_relaxed);
    w.ended = slot.ended.load(std::memory_order_relaxed);
    w.detached = slot.detached.load(std::memory_order_relaxed);
    result.workers.push_back(w);
  }
  return result;
}

void stop() {
  // Not unmapped: see the header. The memory is the process's until it ends.
  log_region.store(nullptr, std::memory_order_release);
}

}  // namespace lab::work_log
