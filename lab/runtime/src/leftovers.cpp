// Finding threads and child processes that a student's code left behind.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "lab/check.hpp"
#include "lab/unique_fd.hpp"

namespace lab::check {
namespace {

// Calls f(name) for each numeric entry of a /proc directory.
template <typename F>
void for_each_numeric_entry(const char* directory, F f) {
  const unique_dir dir = open_dir(directory);
  if (!dir) return;
  while (dirent* entry = readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) f(name);
  }
}

// Reads the state letter and parent pid from /proc/<pid>/stat; false if gone.
bool read_stat(const std::string& pid, char& state, pid_t& parent) {
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return false;
  // The command name is in parentheses and may contain spaces: skip past the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 4 >= text.size()) return false;
  state = text[close + 2];
  parent = static_cast<pid_t>(std::stol(text.substr(close + 4)));
  return true;
}

}  // namespace

std::size_t thread_count() {
  std::size_t count = 0;
  for_each_numeric_entry("/proc/self/task", [&](const std::string&) { ++count; });
  return count;
}

std::size_t wait_for_threads(std::size_t baseline, std::chrono::milliseconds patience) {
  const auto give_up = std::chrono::steady_clock::now() + patience;
  std::size_t count = thread_count();
  while (count > baseline && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    count = thread_count();
  }
  return count;
}

children_left collect_children() {
  children_left left;
  const pid_t self = getpid();
  for_each_numeric_entry("/proc", [&](const std::string& pid) {
    char state = '?';
    pid_t parent = 0;
    if (!read_stat(pid, state, parent) || parent != self) return;
    if (state == 'Z') {
      ++left.not_waited;
    } else {
      ++left.running;
      kill(static_cast<pid_t>(std::stol(pid)), SIGKILL);
    }
  });
  // Reap everything now dead, so the next check starts clean.
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  if (left.running > 0) {
    while (waitpid(-1, nullptr, 0) > 0) {
    }
  }
  return left;
}

}  // namespace lab::check
