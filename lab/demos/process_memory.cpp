#include "process_memory.hpp"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <lab/unique_fd.hpp>

namespace lab::demos {
namespace {

// The value of `key` ("Rss:", "Threads:") in a /proc file of lines "Key:  value ...".
long field(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  return 0;
}

// The children of every thread of `pid` (a child belongs to the thread that forked it).
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> children;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  const unique_dir dir = open_dir(tasks.c_str());
  if (!dir) return children;
  while (const dirent* entry = readdir(dir.get())) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream in(tasks + "/" + entry->d_name + "/children");
    for (pid_t child; in >> child;) children.push_back(child);
  }
  return children;
}

}  // namespace

process_memory memory_of(pid_t pid) {
  process_memory total;
  std::vector<pid_t> pending = {pid};
  while (!pending.empty()) {
    const pid_t next = pending.back();
    pending.pop_back();
    const std::string proc = "/proc/" + std::to_string(next);
    const long threads = field(proc + "/status", "Threads:");
    if (threads == 0) continue;  // gone meanwhile
    total.rss_kb += field(proc + "/smaps_rollup", "Rss:");
    total.pss_kb += field(proc + "/smaps_rollup", "Pss:");
    total.threads += threads;
    ++total.processes;
    for (pid_t child : children_of(next)) pending.push_back(child);
  }
  return total;
}

}  // namespace lab::demos
