// The sandbox. See sandbox.hpp for what the box is and why.
#include "sandbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

extern char** environ;

namespace lab {
namespace fs = std::filesystem;
namespace {

constexpr int channel_fd = 3;     // where the program finds the result channel
constexpr int exec_error_fd = 4;  // where the child reports a failed exec (close-on-exec)
constexpr uid_t nobody = 65534;

// How the box caps processes and threads, chosen before each run.
enum class containment { cgroup, as_nobody, rlimit, none };

// --- small helpers ---------------------------------------------------------

int make_pipe(int ends[2]) {
  if (pipe2(ends, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  return 0;
}

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Calls f(pid) for every process in /proc.
template <typename F>
void for_each_process(F f) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0') f(static_cast<pid_t>(pid));
  }
  closedir(proc);
}

// The parent pid of `pid` from /proc/<pid>/stat, or -1 if it is gone.
pid_t parent_of(pid_t pid) {
  const std::string stat = read_text(fmt::format("/proc/{}/stat", pid));
  const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos || close + 4 >= stat.size()) return -1;
  return static_cast<pid_t>(std::strtol(stat.c_str() + close + 4, nullptr, 10));
}

// Tasks (threads of all processes) whose real uid is `uid`: what RLIMIT_NPROC counts.
long tasks_of_user(uid_t uid) {
  long tasks = 0;
  for_each_process([&](pid_t pid) {
    std::istringstream status(read_text(fmt::format("/proc/{}/status", pid)));
    std::string line;
    bool mine = false;
    while (std::getline(status, line)) {
      if (line.rfind("Uid:", 0) == 0) mine = std::strtoul(line.c_str() + 4, nullptr, 10) == uid;
      if (line.rfind("Threads:", 0) == 0 && mine)
        tasks += std::strtol(line.c_str() + 8, nullptr, 10);
    }
  });
  return tasks;
}

// --- the pids cgroup (as root) -----------------------------------------------

// A pids cgroup made for one run, removed by its destructor after killing
// whatever is still in it.
class pids_cgroup {
 public:
  // Tries cgroup v1 (/sys/fs/cgroup/pids) then v2 (/sys/fs/cgroup).
  bool create(int max_tasks) {
    static int counter = 0;
    const std::string name = fmt::format("lab-{}-{}", getpid(), ++counter);
    for (const char* base : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup"}) {
      const fs::path dir = fs::path(base) / name;
      if (mkdir(dir.c_str(), 0755) != 0) continue;
      std::ofstream limit(dir / "pids.max");
      limit << max_tasks;
      limit.close();
      if (!limit) {
        rmdir(dir.c_str());
        continue;
      }
      dir_ = dir;
      procs_ = (dir / "cgroup.procs").string();
      return true;
    }
    return false;
  }

  // The file the child writes its pid into, before exec.
  const char* procs_file() const { return procs_.c_str(); }

  // True once a fork or clone in the group was refused for the limit.
  bool limit_hit() const {
    std::istringstream events(read_text(dir_ / "pids.events"));
    std::string key;
    long count = 0;
    while (events >> key >> count)
      if (key == "max" && count > 0) return true;
    return false;
  }

  // Kills every process in the group until it is empty; returns how many.
  int kill_all() {
    int killed = 0;
    for (int round = 0; round < 100; ++round) {
      std::istringstream pids(read_text(procs_));
      pid_t pid = 0;
      bool any = false;
      while (pids >> pid) {
        any = true;
        if (kill(pid, SIGKILL) == 0) ++killed;
      }
      reap_children();
      if (!any) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return killed;
  }

  ~pids_cgroup() {
    if (dir_.empty()) return;
    kill_all();
    for (int i = 0; i < 200 && rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  static void reap_children() {
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }

 private:
  fs::path dir_;
  std::string procs_;
};

// As root: a pids cgroup if one can be made, else the user nobody if nobody
// can reach the program, else nothing caps the processes (they are still
// killed after the run). Not root: RLIMIT_NPROC, which binds ordinary users.
containment choose_containment(const sandbox_request& request, pids_cgroup& group) {
  const char* forced = std::getenv("LAB_SANDBOX_CONTAINMENT");  // tests use it to try each path
  const std::string wanted = forced == nullptr ? "" : forced;
  if (geteuid() != 0 || wanted == "rlimit") return containment::rlimit;
  if (wanted != "nobody" && group.create(request.limits.max_tasks)) return containment::cgroup;
  if (nobody_can_run(request.argv[0])) return containment::as_nobody;
  return containment::none;
}

// --- the child, between fork and exec: async-signal-safe calls only ----------

// Writes a decimal number without malloc (for cgroup.procs).
void write_number(int fd, long value) {
  char digits[24];
  int at = sizeof digits;
  do {
    digits[--at] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && at > 0);
  [[maybe_unused]] auto written =
      write(fd, digits + at, static_cast<std::size_t>(static_cast<int>(sizeof digits) - at));
}

void set_limit(int resource, rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  setrlimit(resource, &limit);
}

[[noreturn]] void child_failed(int error) {
  [[maybe_unused]] auto written = write(exec_error_fd, &error, sizeof error);
  _exit(127);
}

// Everything the child needs, prepared before fork (no allocation after it).
struct child_plan {
  std::vector<char*> argv;
  std::vector<char*> envp;
  const char* working_dir = nullptr;
  const char* cgroup_procs = nullptr;
  containment how = containment::rlimit;
  rlim_t task_limit = 0;
  int stdout_fd = -1, stderr_fd = -1, channel_write = -1, error_write = -1;
  const sandbox_limits* limits = nullptr;
};

[[noreturn]] void run_child(const child_plan& plan) {
  setpgid(0, 0);  // its own process group: the whole box can be killed at once
  if (plan.cgroup_procs != nullptr) {
    const int procs = open(plan.cgroup_procs, O_WRONLY | O_CLOEXEC);
    if (procs < 0) child_failed(errno);
    write_number(procs, getpid());
    close(procs);
  }
  // Lay out the file descriptors: 0 /dev/null, 1-2 the capture pipes, 3 the
  // channel, 4 the exec-error pipe (closed by exec), nothing else. First lift
  // every one of them above 10: a pipe may already sit on 1-4, and moving
  // another onto it would close it.
  const auto lift = [](int fd) { return fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 10); };
  const int out = lift(plan.stdout_fd), err = lift(plan.stderr_fd);
  const int channel = lift(plan.channel_write), error = lift(plan.error_write);
  if (channel < 0 || error < 0 || (plan.stdout_fd >= 0 && (out < 0 || err < 0)))
    child_failed(errno);
  if (dup3(error, exec_error_fd, O_CLOEXEC) < 0) child_failed(errno);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0) child_failed(errno);
  if (out >= 0 && dup2(out, STDOUT_FILENO) < 0) child_failed(errno);
  if (err >= 0 && dup2(err, STDERR_FILENO) < 0) child_failed(errno);
  if (dup2(channel, channel_fd) < 0) child_failed(errno);  // dup2 clears close-on-exec
  close_range(exec_error_fd + 1, ~0u, 0);
  if (plan.working_dir != nullptr && chdir(plan.working_dir) != 0) child_failed(errno);

  const sandbox_limits& l = *plan.limits;
  if (l.cpu_seconds > 0)
    set_limit(RLIMIT_CPU, l.cpu_seconds, l.cpu_seconds + 1);  // SIGXCPU, then SIGKILL
  if (l.address_space_bytes > 0) set_limit(RLIMIT_AS, l.address_space_bytes, l.address_space_bytes);
  set_limit(RLIMIT_NOFILE, l.open_files, l.open_files);
  set_limit(RLIMIT_FSIZE, l.file_size_bytes, l.file_size_bytes);
  set_limit(RLIMIT_CORE, 0, 0);  // a crash must not litter the student's folder with core files
  if (plan.how == containment::as_nobody) {
    // Root ignores RLIMIT_NPROC: become nobody, whom it binds.
    if (setgroups(0, nullptr) != 0 || setgid(nobody) != 0 || setuid(nobody) != 0)
      child_failed(errno);
  }
  if (plan.how == containment::as_nobody || plan.how == containment::rlimit)
    set_limit(RLIMIT_NPROC, plan.task_limit, plan.task_limit);
  execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  child_failed(errno);
}

// --- the parent ---------------------------------------------------------------

// Keeps the first `cap` bytes of a stream and counts the rest.
struct capture {
  int fd = -1;
  std::string* kept = nullptr;
  std::uint64_t* total = nullptr;
  std::size_t cap = 0;

  // Reads what is available; false at end of stream.
  bool drain() {
    char buffer[65536];
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (got <= 0) return false;
    if (total != nullptr) *total += static_cast<std::uint64_t>(got);
    if (kept->size() < cap)
      kept->append(buffer, std::min(static_cast<std::size_t>(got), cap - kept->size()));
    return true;
  }
};

// Kills every process that is a child of lab (the box's orphans come back to
// lab, a subreaper), repeatedly, since killing one may orphan its children.
// Assumes lab runs one box at a time and has no other children meanwhile.
int kill_orphans() {
  int killed = 0;
  const pid_t self = getpid();
  for (int round = 0; round < 50; ++round) {
    std::vector<pid_t> ours;
    for_each_process([&](pid_t pid) {
      if (parent_of(pid) == self) ours.push_back(pid);
    });
    pids_cgroup::reap_children();
    bool alive = false;
    for (pid_t pid : ours) {
      if (kill(pid, SIGKILL) == 0) {
        alive = true;
        ++killed;
      }
    }
    pids_cgroup::reap_children();
    if (!alive) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return killed;
}

std::vector<std::string> environment_for(const sandbox_request& request) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = name == "LAB_RESULT_FD";
    for (const auto& [key, value] : request.env) replaced |= key == name;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [key, value] : request.env) env.push_back(key + "=" + value);
  env.push_back(fmt::format("LAB_RESULT_FD={}", channel_fd));
  return env;
}

}  // namespace

bool nobody_can_run(const fs::path& program) {
  std::error_code ec;
  for (fs::path at = fs::absolute(program, ec); !ec && !at.empty(); at = at.parent_path()) {
    const auto permissions = fs::status(at, ec).permissions();
    if (ec || (permissions & fs::perms::others_exec) == fs::perms::none) return false;
    if (at == at.root_path()) break;
  }
  return !ec;
}

std::string describe_signal(int signal_number) {
  const char* abbreviation = sigabbrev_np(signal_number);
  const char* description = sigdescr_np(signal_number);
  if (abbreviation == nullptr) return fmt::format("signal {}", signal_number);
  std::string text = description == nullptr ? "" : description;
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return fmt::format("SIG{} ({})", abbreviation, text);
}

sandbox_result run_sandboxed(const sandbox_request& request) {
  static const bool subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
  (void)subreaper;
  sandbox_result result;
  if (request.argv.empty()) {
    result.error = "no program given";
    return result;
  }
  const auto started = std::chrono::steady_clock::now();

  pids_cgroup group;
  const containment how = choose_containment(request, group);
  result.containment = how == containment::cgroup      ? "cgroup"
                       : how == containment::as_nobody ? "nobody"
                                                       : "rlimit";

  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, channel_pipe[2], error_pipe[2];
  if (!request.pass_output) {
    make_pipe(out_pipe);
    make_pipe(err_pipe);
  }
  make_pipe(channel_pipe);
  make_pipe(error_pipe);

  // Everything the child needs, built before fork.
  std::vector<std::string> args = request.argv;
  std::vector<std::string> env = environment_for(request);
  const std::string working_dir = request.working_dir.string();
  child_plan plan;
  for (auto& arg : args) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  for (auto& entry : env) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  plan.working_dir = working_dir.empty() ? nullptr : working_dir.c_str();
  plan.cgroup_procs = how == containment::cgroup ? group.procs_file() : nullptr;
  plan.how = how;
  if (how == containment::as_nobody || how == containment::rlimit)
    plan.task_limit =
        static_cast<rlim_t>(tasks_of_user(how == containment::as_nobody ? nobody : getuid()) +
                            request.limits.max_tasks);
  plan.stdout_fd = out_pipe[1];
  plan.stderr_fd = err_pipe[1];
  plan.channel_write = channel_pipe[1];
  plan.error_write = error_pipe[1];
  plan.limits = &request.limits;

  const pid_t pid = fork();
  if (pid == 0) run_child(plan);
  for (int* fd : {&out_pipe[1], &err_pipe[1], &channel_pipe[1], &error_pipe[1]}) close_fd(*fd);
  if (pid < 0) {
    result.error = fmt::format("fork failed: {}", std::strerror(errno));
    for (int* fd : {&out_pipe[0], &err_pipe[0], &channel_pipe[0], &error_pipe[0]}) close_fd(*fd);
    return result;
  }
  setpgid(pid, pid);  // also here, so that the group exists before any kill(-pid)

  // exec closes the error pipe; a failed exec writes its errno first.
  int exec_errno = 0;
  if (read(error_pipe[0], &exec_errno, sizeof exec_errno) ==
      static_cast<ssize_t>(sizeof exec_errno)) {
    close_fd(error_pipe[0]);
    waitpid(pid, nullptr, 0);
    for (int* fd : {&out_pipe[0], &err_pipe[0], &channel_pipe[0]}) close_fd(*fd);
    result.error = fmt::format("cannot run {}: {}", request.argv[0], std::strerror(exec_errno));
    if (how == containment::as_nobody && exec_errno == EACCES)
      result.error +=
          " (as root without a pids cgroup, lab runs programs as the user nobody, who "
          "must be able to reach them: chmod o+rx the folders above the checkout)";
    return result;
  }
  close_fd(error_pipe[0]);

  std::vector<capture> streams;
  if (!request.pass_output) {
    streams.push_back(
        {out_pipe[0], &result.out, &result.out_bytes, request.limits.output_cap_bytes});
    streams.push_back(
        {err_pipe[0], &result.err, &result.err_bytes, request.limits.output_cap_bytes});
  }
  streams.push_back({channel_pipe[0], &result.channel, nullptr, request.limits.channel_cap_bytes});

  const auto deadline = started + request.limits.timeout;
  bool exited = false, killed = false;
  int status = 0;
  std::chrono::steady_clock::time_point exited_at;
  const auto kill_box = [&] {
    kill(-pid, SIGKILL);
    if (how == containment::cgroup) group.kill_all();
    killed = true;
  };
  for (;;) {
    // ECHILD: a cgroup clean-up already reaped it (after a kill, so the status is moot).
    const pid_t waited = exited ? 0 : waitpid(pid, &status, WNOHANG);
    if (waited == pid || (waited < 0 && errno == ECHILD)) {
      exited = true;
      exited_at = std::chrono::steady_clock::now();
    }
    const bool open_streams =
        std::any_of(streams.begin(), streams.end(), [](const capture& c) { return c.fd >= 0; });
    // Done when the program ended and its pipes closed, or shortly after it
    // ended if something it started still holds them open.
    if (exited && (!open_streams ||
                   std::chrono::steady_clock::now() - exited_at > std::chrono::milliseconds(200)))
      break;
    const auto now = std::chrono::steady_clock::now();
    if (!exited && !killed) {
      if (now >= deadline) {
        result.outcome = sandbox_outcome::timed_out;
        kill_box();
      } else if (request.cancel != nullptr && request.cancel->load()) {
        result.outcome = sandbox_outcome::interrupted;
        kill_box();
      }
    }
    std::vector<pollfd> polled;
    for (const auto& c : streams)
      if (c.fd >= 0) polled.push_back({c.fd, POLLIN, 0});
    if (polled.empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (poll(polled.data(), polled.size(), 50) <= 0) continue;
    for (auto& c : streams) {
      if (c.fd < 0) continue;
      const auto found =
          std::find_if(polled.begin(), polled.end(), [&](const pollfd& p) { return p.fd == c.fd; });
      if (found != polled.end() && found->revents != 0 && !c.drain()) close_fd(c.fd);
    }
  }
  for (auto& c : streams) close_fd(c.fd);

  // Nothing of the run may outlive it: the group, the cgroup, and orphans
  // that left the group (setsid) and came back to lab as their subreaper.
  if (kill(-pid, SIGKILL) == 0) ++result.leftovers_killed;
  if (how == containment::cgroup) {
    result.leftovers_killed += group.kill_all();
    result.task_limit_hit = group.limit_hit();
  }
  result.leftovers_killed += kill_orphans();

  if (result.outcome != sandbox_outcome::timed_out &&
      result.outcome != sandbox_outcome::interrupted) {
    if (WIFEXITED(status)) {
      result.outcome = sandbox_outcome::exited;
      result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result.outcome = sandbox_outcome::signaled;
      result.term_signal = WTERMSIG(status);
    }
  }
  result.elapsed = std::chrono::steady_clock::now() - started;
  return result;
}

}  // namespace lab
