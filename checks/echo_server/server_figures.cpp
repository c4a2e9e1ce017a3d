#include "server_figures.hpp"

#include <sys/syscall.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <system_error>

namespace echo_check {
namespace {

// The state letter in /proc/<pid>/stat, after the name in parentheses
// (which may itself hold spaces and parentheses: hence the last ')').
char state_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return 0;
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? 0 : text[close + 2];
}

}  // namespace

server_figures read_figures(pid_t pid) {
  server_figures figures;
  figures.state = state_of(pid);
  // schedstat per thread: nanoseconds on a CPU, nanoseconds waiting for one.
  std::error_code error;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    std::ifstream schedstat(task.path() / "schedstat");
    double running = 0, waiting = 0;
    if (schedstat >> running >> waiting) {
      figures.cpu_seconds += running / 1e9;
      figures.waiting_cpu += waiting / 1e9;
    }
  }
  return figures;
}

int open_descriptors(pid_t pid) {
  std::error_code error;
  int count = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", error), end;
       !error && it != end; it.increment(error))
    ++count;
  return count;
}

std::string blocking_call(pid_t pid) {
  // The calls a server waits in; any other is named by its number.
  static const std::map<long, std::string> names = {
      {SYS_read, "read"},
      {SYS_write, "write"},
      {SYS_recvfrom, "recv"},
      {SYS_sendto, "send"},
      {SYS_select, "select"},
      {SYS_pselect6, "select"},
      {SYS_poll, "poll"},
      {SYS_ppoll, "poll"},
      {SYS_epoll_wait, "epoll_wait"},
      {SYS_epoll_pwait, "epoll_wait"},
      {SYS_accept, "accept"},
      {SYS_accept4, "accept"},
      {SYS_futex, "a lock or condition variable (futex)"},
      {SYS_nanosleep, "sleep"},
      {SYS_clock_nanosleep, "sleep"},
      {SYS_recvmsg, "recvmsg"},
      {SYS_sendmsg, "sendmsg"}};
  std::ifstream syscall_file("/proc/" + std::to_string(pid) + "/syscall");
  long number = -1;
  if (!(syscall_file >> number) || number < 0) return "";
  const auto name = names.find(number);
  return name != names.end() ? name->second : "system call " + std::to_string(number);
}

}  // namespace echo_check
