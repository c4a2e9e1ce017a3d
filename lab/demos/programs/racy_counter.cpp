// The racy counter, on its own, for the race.tsan demo: two threads add 1 to
// a plain `long` a million times each with no lock. The demo compiles this
// file with -fsanitize=thread and shows what ThreadSanitizer says about it;
// with -DLAB_FIXED the counter is a std::atomic and TSan has nothing to say.
//
// lesson: races
#include <atomic>
#include <cstdio>
#include <thread>

#ifdef LAB_FIXED
std::atomic<long> counter{0};  // fetch_add below is one indivisible read-add-write
#else
long counter = 0;           // shared by both threads, guarded by nothing: a data race
#endif

void add_a_million() {
  for (int i = 0; i < 1'000'000; ++i) {
#ifdef LAB_FIXED
    counter.fetch_add(1, std::memory_order_relaxed);  // relaxed: only the total matters
#else
    counter = counter + 1;  // read, add, write: another thread can slip in between
#endif
  }
}

int main() {
  std::thread a(add_a_million);
  std::thread b(add_a_million);
  a.join();
  b.join();
  std::printf("counter = %ld (expected 2000000)\n", static_cast<long>(counter));
  return 0;
}
