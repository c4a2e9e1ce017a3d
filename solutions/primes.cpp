// Solution: primes                                   lesson: gil (`bin/lab lesson gil`)
//
// Three ways to spread the primality tests over `workers` workers. Run
// `bin/lab solution primes` and read the timing table: the two thread-based
// stages get no faster with more workers, because lab::is_prime holds the
// GIL analogue while it works (as CPython's threads do); the process-based
// stage does, because each child has its own GIL.
#include <lab/primes.hpp>
#include <lab/thread_pool.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <future>
#include <system_error>
#include <thread>
#include <vector>

namespace {

// Work is handed out in blocks of consecutive numbers, and each worker takes
// the next block when it is done with its last one (as multiprocessing.Pool's
// workers take the next task). Why not split the numbers into `workers` fixed
// shares? Large numbers cost more than small ones, primes cost more than
// composites, and 5 workers on 2 cores run as 3 on one core and 2 on the
// other: a fixed share leaves some workers idle while others still work.
constexpr long block = 64;

// The numbers below `end` that `flags` marks as prime, in order.
std::vector<long> collect_primes(const std::vector<char>& flags) {
  std::vector<long> primes;
  for (std::size_t n = 0; n < flags.size(); ++n)
    if (flags[n]) primes.push_back(static_cast<long>(n));
  return primes;
}

}  // namespace

// Stage 1: std::thread workers.
//
// The workers share one counter, `next`, of the first number nobody has
// taken yet; fetch_add hands each worker a different block. Each answer goes
// into the number's own slot of `flags`: no two threads write the same slot,
// so the slots need no lock, and join() makes every worker's writes visible
// to this thread.
std::vector<long> calc_primes_threads(long end, int workers) {
  std::vector<char> flags(static_cast<std::size_t>(std::max(end, 0L)), 0);
  // Relaxed is enough: the counter only has to hand out each block once;
  // the answers are published by join(), not by the counter.
  std::atomic<long> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&flags, &next, end] {
      for (long start = next.fetch_add(block, std::memory_order_relaxed); start < end;
           start = next.fetch_add(block, std::memory_order_relaxed)) {
        for (long n = start; n < std::min(start + block, end); ++n)
          flags[static_cast<std::size_t>(n)] = lab::is_prime(n);
      }
    });
  }
  for (auto& thread : threads) thread.join();  // forgetting this is the classic bug
  return collect_primes(flags);
}

// Stage 2: a thread pool, like multiprocessing.dummy.Pool's apply_async.
//
// One task per number; the futures come back in submission order, so reading
// them in order gives the primes in order. The pool's destructor joins its
// threads before we return.
std::vector<long> calc_primes_pool(long end, int workers) {
  lab::thread_pool pool(static_cast<std::size_t>(workers));
  std::vector<std::future<bool>> answers;
  for (long n = 0; n < end; ++n) answers.push_back(pool.submit([n] { return lab::is_prime(n); }));

  std::vector<long> primes;
  for (long n = 0; n < end; ++n)
    if (answers[static_cast<std::size_t>(n)].get()) primes.push_back(n);
  return primes;
}

namespace {

// Writes all of `bytes` to fd, retrying short writes. False on error.
bool write_all(int fd, const void* bytes, std::size_t size) {
  const char* data = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t written = write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

// In a forked child: takes blocks from the shared task pipe until it is
// empty, tests their numbers, then writes the primes it found to `out` and
// ends the child. Never returns: a child that returned would go on running
// its parent's code.
[[noreturn]] void run_child(long end, int tasks, int out) {
  std::vector<long> found;
  long start = 0;
  // Every task is one long written in one write(); the kernel hands each
  // one to exactly one reader, whole, so children never share a block.
  while (read(tasks, &start, sizeof start) == static_cast<ssize_t>(sizeof start)) {
    for (long n = start; n < std::min(start + block, end); ++n)
      if (lab::is_prime(n)) found.push_back(n);
  }
  const bool sent = write_all(out, found.data(), found.size() * sizeof(long));
  close(out);
  _exit(sent ? 0 : 1);  // _exit, not exit: the parent's atexit handlers are not ours to run
}

// Reads longs from fd until the writer closes it.
void read_all_longs(int fd, std::vector<long>& into) {
  long value = 0;
  std::size_t have = 0;  // bytes of `value` read so far
  for (;;) {
    const ssize_t got = read(fd, reinterpret_cast<char*>(&value) + have, sizeof value - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;
    have += static_cast<std::size_t>(got);
    if (have == sizeof value) {
      into.push_back(value);
      have = 0;
    }
  }
}

}  // namespace

// Stage 3: worker processes, like multiprocessing.Pool.
//
// Each child gets its own copy of memory (and its own GIL), so the children
// cannot write into a shared vector or share a counter: everything goes
// through pipes, as in multiprocessing. One task pipe carries the blocks to
// test (any idle child takes the next); one result pipe per child carries
// its primes back.
std::vector<long> calc_primes_processes(long end, int workers) {
  int tasks[2];
  if (pipe(tasks) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  std::vector<pid_t> children;
  std::vector<int> results;  // read ends, one per child
  for (int w = 0; w < workers; ++w) {
    int ends[2];
    if (pipe(ends) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    const pid_t pid = fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      close(tasks[1]);  // or the task pipe never reaches its end for this child
      close(ends[0]);
      for (int earlier : results) close(earlier);  // a sibling's pipe is not ours
      run_child(end, tasks[0], ends[1]);
    }
    close(ends[1]);  // keep only the read end, so EOF comes when the child is done
    children.push_back(pid);
    results.push_back(ends[0]);
  }
  close(tasks[0]);

  // Queue every block, then close the task pipe: the children stop when it
  // is empty. Children only write their results after that, so this parent
  // and its children never wait for each other in a circle.
  for (long start = 0; start < end; start += block) write_all(tasks[1], &start, sizeof start);
  close(tasks[1]);

  std::vector<long> primes;
  for (int fd : results) {
    read_all_longs(fd, primes);
    close(fd);
  }
  for (pid_t child : children) waitpid(child, nullptr, 0);  // no zombies left behind
  std::sort(primes.begin(), primes.end());
  return primes;
}
