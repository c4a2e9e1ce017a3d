#include "lab/work_log.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <new>
#include <system_error>

namespace lab::work_log {
namespace {

constexpr std::size_t max_workers = 512;

struct worker_slot {
  // 0 while free; otherwise (pid << 32 | tid). Claimed once, with a CAS.
  std::atomic<std::uint64_t> key{0};
  std::atomic<std::uint64_t> calls{0};
};

// The shared region: this header, then one counter per number.
// All updates are relaxed: nobody reads the log while workers still run;
// the reader is ordered after them by join() or waitpid(), which are
// synchronising operations.
struct region {
  std::size_t end = 0;
  std::atomic<std::uint64_t> out_of_range{0};
  std::atomic<bool> overflowed{false};
  worker_slot workers[max_workers];
  // std::atomic<std::uint32_t> counts[end] follows.
};

region* log_region = nullptr;  // written only by start()/stop(), before/after workers
std::size_t log_bytes = 0;

std::atomic<std::uint32_t>* counts(region* r) {
  return reinterpret_cast<std::atomic<std::uint32_t>*>(r + 1);
}

std::uint64_t my_key() {
  const auto pid = static_cast<std::uint64_t>(getpid());
  const auto tid = static_cast<std::uint64_t>(syscall(SYS_gettid));
  return (pid << 32) | (tid & 0xffffffffu);
}

// Finds the calling worker's slot, claiming a free one on first use.
// Returns nullptr when all slots are taken.
worker_slot* my_slot(region* r) {
  const std::uint64_t key = my_key();
  for (auto& slot : r->workers) {
    std::uint64_t seen = slot.key.load(std::memory_order_relaxed);
    if (seen == key) return &slot;
    if (seen == 0) {
      // Relaxed is enough: the slot's identity is only read after the run.
      if (slot.key.compare_exchange_strong(seen, key, std::memory_order_relaxed)) return &slot;
      if (seen == key) return &slot;
    }
  }
  return nullptr;
}

}  // namespace

void start(std::size_t end) {
  stop();
  log_bytes = sizeof(region) + end * sizeof(std::atomic<std::uint32_t>);
  void* memory =
      mmap(nullptr, log_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED)
    throw std::system_error(errno, std::generic_category(), "work_log mmap");
  log_region = new (memory) region;  // anonymous mappings are zero-filled
  log_region->end = end;
  for (std::size_t i = 0; i < end; ++i) new (&counts(log_region)[i]) std::atomic<std::uint32_t>(0);
}

void record(long n) {
  region* r = log_region;
  if (r == nullptr) return;
  if (n < 0 || static_cast<std::size_t>(n) >= r->end) {
    r->out_of_range.fetch_add(1, std::memory_order_relaxed);
  } else {
    counts(r)[n].fetch_add(1, std::memory_order_relaxed);
  }
  if (worker_slot* slot = my_slot(r)) {
    slot->calls.fetch_add(1, std::memory_order_relaxed);
  } else {
    r->overflowed.store(true, std::memory_order_relaxed);
  }
}

summary read() {
  summary result;
  region* r = log_region;
  if (r == nullptr) return result;
  result.calls_per_number.resize(r->end);
  for (std::size_t i = 0; i < r->end; ++i)
    result.calls_per_number[i] = counts(r)[i].load(std::memory_order_relaxed);
  result.out_of_range = r->out_of_range.load(std::memory_order_relaxed);
  result.workers_overflowed = r->overflowed.load(std::memory_order_relaxed);
  for (const auto& slot : r->workers) {
    const std::uint64_t key = slot.key.load(std::memory_order_relaxed);
    if (key == 0) break;
    result.workers.push_back({static_cast<pid_t>(key >> 32), static_cast<pid_t>(key & 0xffffffffu),
                              slot.calls.load(std::memory_order_relaxed)});
  }
  return result;
}

void stop() {
  if (log_region == nullptr) return;
  munmap(log_region, log_bytes);
  log_region = nullptr;
  log_bytes = 0;
}

}  // namespace lab::work_log
