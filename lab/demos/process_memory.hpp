// The memory a server uses, summed over its process and every process it
// forked, from /proc (smaps_rollup): RSS, the pages resident in RAM, and PSS,
// where a page shared by k processes counts 1/k in each (so that a forked
// server's shared pages are not counted once per child).
#pragma once

#include <sys/types.h>

namespace lab::demos {

struct process_memory {
  long rss_kb = 0;
  long pss_kb = 0;
  long processes = 0;  // `pid` and its descendants
  long threads = 0;    // over all of them
};

// Reads the memory of `pid` and its descendants. Processes that end while
// it reads are skipped.
process_memory memory_of(pid_t pid);

}  // namespace lab::demos
