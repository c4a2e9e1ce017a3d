// What /proc says about the student's server process: its state, the CPU it
// used, the time it waited for a CPU, its open descriptors, the system call
// it sleeps in. Observations the checks base their verdicts on, instead of
// guesses from elapsed time.
#pragma once

#include <sys/types.h>

#include <string>

namespace echo_check {

struct server_figures {
  char state = 0;          // 'R' running or runnable, 'S'/'D' blocked; 0: gone
  double cpu_seconds = 0;  // on a CPU so far, all its threads (schedstat)
  double waiting_cpu = 0;  // runnable but waiting for a CPU so far (schedstat)
};

// The figures of process `pid` now.
server_figures read_figures(pid_t pid);

// Descriptors open in process `pid` now (entries of /proc/<pid>/fd).
int open_descriptors(pid_t pid);

// The system call process `pid` sleeps in, by name ("recvfrom", "select",
// "epoll_wait", ...), or "" when it is in none or /proc will not say.
std::string blocking_call(pid_t pid);

}  // namespace echo_check
