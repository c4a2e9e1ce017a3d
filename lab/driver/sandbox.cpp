// The sandbox. See sandbox.hpp for what the box is and why.
//
// One run, in order:
//   1. choose how to cap processes and threads (choose_containment), and
//      prepare everything the child will need (child_plan): between fork and
//      exec only async-signal-safe calls are allowed, so nothing is allocated
//      or formatted there;
//   2. fork; the child joins its cgroup, lays out its file descriptors, sets
//      its limits, perhaps becomes nobody, and execs (run_child);
//   3. the parent learns from the error pipe whether exec worked, then drains
//      the pipes until the program ends, the deadline passes, or *cancel is
//      set (watch);
//   4. end_box kills and reaps whatever is left of the run.
//
// Assumption: lab runs one box at a time and starts no other child while a
// box runs. After a run, every child of lab that was not there before the run
// is taken to be an orphan of the box that came back to lab (the subreaper),
// and is killed.
//
// For tests, the environment variable LAB_SANDBOX_CONTAINMENT forces a path:
// "nobody" skips the cgroup, "rlimit" uses RLIMIT_NPROC alone (which caps
// nothing for root), "none" caps nothing. Unset (or "cgroup"): automatic.
#include "sandbox.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

extern char** environ;

namespace lab {
namespace fs = std::filesystem;
using std::chrono::steady_clock;
namespace {

constexpr int channel_fd = 3;     // where the program finds the result channel
constexpr int exec_error_fd = 4;  // where the child reports a failed set-up (close-on-exec)
constexpr uid_t nobody = 65534;

// How the box caps processes and threads, chosen before each run.
enum class containment { cgroup, as_nobody, rlimit, none };

// --- small helpers -------------------------------------------------------------

void make_pipe(int ends[2]) {
  if (pipe2(ends, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
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

// Writes `text` to an existing file (cgroup files must not be created).
bool write_existing(const fs::path& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return written;
}

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream words(text);
  std::string each;
  while (words >> each)
    if (each == word) return true;
  return false;
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

// One line of /proc/<pid>/stat, the fields the clean-up needs.
struct process_info {
  pid_t pid = 0;
  char state = '?';  // 'Z': a zombie, dead but not yet reaped
  pid_t ppid = 0;
  pid_t pgid = 0;
};

// Every process now, from /proc/*/stat; processes that vanish meanwhile are skipped.
std::vector<process_info> list_processes() {
  std::vector<process_info> all;
  for_each_process([&](pid_t pid) {
    const std::string stat = read_text(fmt::format("/proc/{}/stat", pid));
    const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (close == std::string::npos) return;
    std::istringstream fields(stat.substr(close + 1));
    process_info p;
    p.pid = pid;
    if (fields >> p.state >> p.ppid >> p.pgid) all.push_back(p);
  });
  return all;
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

// lab's children now: the ones the clean-up must leave alone.
std::set<pid_t> children_of(pid_t parent) {
  std::set<pid_t> children;
  for (const auto& p : list_processes())
    if (p.ppid == parent) children.insert(p.pid);
  return children;
}

// Makes lab a child subreaper: orphans of the box (even ones that left its
// process group with setsid) become lab's children instead of init's, so the
// clean-up finds them. Idempotent and cheap, so done on every run: that also
// covers a lab process that was forked (fork does not inherit the flag).
void become_subreaper() { prctl(PR_SET_CHILD_SUBREAPER, 1); }

// --- the pids cgroup (as root) -------------------------------------------------

bool is_filesystem(const fs::path& path, unsigned long magic) {
  struct statfs info {};
  return statfs(path.c_str(), &info) == 0 && static_cast<unsigned long>(info.f_type) == magic;
}

// Where per-run pids cgroups can be made, or empty: cgroup v1's pids
// hierarchy, else a cgroup v2 hierarchy whose root passes the pids controller
// on to its children (switched on here if it is available but off).
fs::path pids_cgroup_parent() {
  const fs::path v1 = "/sys/fs/cgroup/pids";
  if (is_filesystem(v1, CGROUP_SUPER_MAGIC) && fs::exists(v1 / "cgroup.procs")) return v1;
  for (const fs::path v2 : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    if (!is_filesystem(v2, CGROUP2_SUPER_MAGIC)) continue;
    if (!has_word(read_text(v2 / "cgroup.controllers"), "pids")) continue;
    if (has_word(read_text(v2 / "cgroup.subtree_control"), "pids") ||
        write_existing(v2 / "cgroup.subtree_control", "+pids"))
      return v2;
  }
  return {};
}

// A pids cgroup made for one run: it caps the tasks of everything inside it
// (root included), and lists them for the clean-up. Removed by the destructor.
class pids_cgroup {
 public:
  pids_cgroup() = default;
  pids_cgroup(const pids_cgroup&) = delete;
  pids_cgroup& operator=(const pids_cgroup&) = delete;

  // Makes the cgroup with pids.max = max_tasks; false if this machine cannot.
  bool create(int max_tasks) {
    static std::atomic<int> counter{0};
    const fs::path parent = pids_cgroup_parent();
    if (parent.empty()) return false;
    const fs::path dir = parent / fmt::format("lab-{}-{}", getpid(), ++counter);
    if (mkdir(dir.c_str(), 0755) != 0) return false;
    if (!write_existing(dir / "pids.max", std::to_string(max_tasks))) {
      rmdir(dir.c_str());
      return false;
    }
    dir_ = dir;
    procs_ = (dir / "cgroup.procs").string();
    return true;
  }

  bool made() const { return !dir_.empty(); }

  // The file the child writes its own pid into, before exec.
  const char* procs_file() const { return procs_.c_str(); }

  // True once a fork or clone inside was refused for the limit ("max N", N > 0).
  bool limit_hit() const {
    std::istringstream events(read_text(dir_ / "pids.events"));
    std::string key;
    long count = 0;
    while (events >> key >> count)
      if (key == "max" && count > 0) return true;
    return false;
  }

  // The processes inside now (zombies have left it already).
  std::set<pid_t> members() const {
    std::set<pid_t> pids;
    if (!made()) return pids;
    std::istringstream listed(read_text(procs_));
    pid_t pid = 0;
    while (listed >> pid) pids.insert(pid);
    return pids;
  }

  // Removes the cgroup; it must be empty by now (end_box saw to that), but a
  // process that was just killed may take a moment to leave it.
  ~pids_cgroup() {
    if (!made()) return;
    for (pid_t pid : members()) kill(pid, SIGKILL);
    for (int i = 0; i < 200 && rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

 private:
  fs::path dir_;
  std::string procs_;
};

// As root: a pids cgroup if one can be made, else the user nobody if nobody
// can reach the program, else nothing caps the tasks (they are still killed
// after the run). Not root: RLIMIT_NPROC, which binds ordinary users.
containment choose_containment(const sandbox_request& request, pids_cgroup& group) {
  const char* forced = std::getenv("LAB_SANDBOX_CONTAINMENT");  // see the top of this file
  const std::string wanted = forced == nullptr ? "" : forced;
  if (wanted == "none") return containment::none;
  if (geteuid() != 0 || wanted == "rlimit") return containment::rlimit;
  if (wanted != "nobody" && group.create(request.limits.max_tasks)) return containment::cgroup;
  if (nobody_can_run(request.argv[0])) return containment::as_nobody;
  return containment::none;
}

const char* name_of(containment how) {
  switch (how) {
    case containment::cgroup: return "cgroup";
    case containment::as_nobody: return "nobody";
    case containment::rlimit: return "rlimit";
    case containment::none: return "none";
  }
  return "none";
}

// --- the child, between fork and exec: async-signal-safe calls only -------------

// The set-up step that failed in the child, sent to the parent with errno.
enum class child_step : int { join_cgroup, lay_out_fds, enter_folder, drop_privileges, exec };

struct child_failure {
  child_step step;
  int error;
};

[[noreturn]] void child_failed(child_step step, int error) {
  const child_failure failure{step, error};
  [[maybe_unused]] auto written = write(exec_error_fd, &failure, sizeof failure);
  _exit(127);
}

// Writes a decimal number without allocating (for cgroup.procs).
bool write_number(int fd, long value) {
  char digits[24];
  std::size_t at = sizeof digits;
  do {
    digits[--at] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && at > 0);
  const std::size_t length = sizeof digits - at;
  return write(fd, digits + at, length) == static_cast<ssize_t>(length);
}

// Sets a limit, lowered to the current hard limit: an ordinary user may not
// raise it, and a failed setrlimit would leave no limit at all.
void set_limit(int resource, rlim_t soft, rlim_t hard) {
  rlimit now{};
  if (getrlimit(resource, &now) == 0 && now.rlim_max != RLIM_INFINITY) {
    soft = std::min(soft, now.rlim_max);
    hard = std::min(hard, now.rlim_max);
  }
  const rlimit limit{soft, hard};
  setrlimit(resource, &limit);
}

// Everything the child needs, prepared before fork: no allocation after it.
// Not copyable: argv and envp point into the strings it owns.
struct child_plan {
  child_plan() = default;
  child_plan(const child_plan&) = delete;
  child_plan& operator=(const child_plan&) = delete;

  std::vector<std::string> arg_text, env_text;
  std::vector<char*> argv, envp;
  std::string working_dir;  // empty: lab's own
  const char* cgroup_procs = nullptr;
  containment how = containment::rlimit;
  rlim_t task_limit = 0;  // RLIMIT_NPROC, for as_nobody and rlimit
  int stdout_fd = -1, stderr_fd = -1, channel_write = -1, error_write = -1;
  int max_fd = 1024;  // for closing fds by hand if close_range is missing
  sandbox_limits limits;
};

// Joins the run's cgroup first, before anything can fork: from then on every
// task of the box counts against pids.max.
void join_cgroup(const child_plan& plan) {
  if (plan.cgroup_procs == nullptr) return;
  const int procs = open(plan.cgroup_procs, O_WRONLY | O_CLOEXEC);
  if (procs < 0 || !write_number(procs, getpid())) child_failed(child_step::join_cgroup, errno);
  close(procs);
}

// Lays out the file descriptors: 0 /dev/null, 1-2 the capture pipes (or
// lab's own), 3 the result channel, 4 the error pipe (closed by exec), and
// nothing else: lab may hold other files that are no business of the program.
void lay_out_fds(const child_plan& plan) {
  // First lift every pipe above 10: one may already sit on 0-4, and moving
  // another onto it would close it.
  const auto lift = [](int fd) { return fd < 0 ? fd : fcntl(fd, F_DUPFD_CLOEXEC, 10); };
  const int out = lift(plan.stdout_fd), err = lift(plan.stderr_fd);
  const int channel = lift(plan.channel_write), error = lift(plan.error_write);
  if (error < 0 || dup3(error, exec_error_fd, O_CLOEXEC) < 0) _exit(127);  // cannot even report
  if (channel < 0 || (plan.stdout_fd >= 0 && (out < 0 || err < 0)))
    child_failed(child_step::lay_out_fds, errno);
  const int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0) child_failed(child_step::lay_out_fds, errno);
  if (out >= 0 && dup2(out, STDOUT_FILENO) < 0) child_failed(child_step::lay_out_fds, errno);
  if (err >= 0 && dup2(err, STDERR_FILENO) < 0) child_failed(child_step::lay_out_fds, errno);
  if (dup2(channel, channel_fd) < 0)  // dup2 clears close-on-exec: the program keeps it
    child_failed(child_step::lay_out_fds, errno);
  if (close_range(exec_error_fd + 1, ~0u, 0) != 0)
    for (int fd = exec_error_fd + 1; fd < plan.max_fd; ++fd) close(fd);
}

void set_limits(const child_plan& plan) {
  const sandbox_limits& l = plan.limits;
  if (l.cpu_seconds > 0)
    set_limit(RLIMIT_CPU, l.cpu_seconds, l.cpu_seconds + 1);  // SIGXCPU, a second later SIGKILL
  if (l.address_space_bytes > 0)  // 0 for ThreadSanitizer, which maps terabytes of shadow
    set_limit(RLIMIT_AS, l.address_space_bytes, l.address_space_bytes);
  set_limit(RLIMIT_NOFILE, l.open_files, l.open_files);
  set_limit(RLIMIT_FSIZE, l.file_size_bytes, l.file_size_bytes);
  set_limit(RLIMIT_CORE, 0, 0);  // a crash must not litter the student's folder with core files
}

// Caps the box's tasks with RLIMIT_NPROC. The kernel ignores RLIMIT_NPROC for
// root (and anyone with CAP_SYS_RESOURCE or CAP_SYS_ADMIN), so as root the
// child first becomes nobody, whom it binds. RLIMIT_NPROC counts every task
// of the user, not just the box's: plan.task_limit is what the user ran
// before the run plus max_tasks.
void cap_tasks(const child_plan& plan) {
  if (plan.how == containment::as_nobody &&
      (setgroups(0, nullptr) != 0 || setgid(nobody) != 0 || setuid(nobody) != 0))
    child_failed(child_step::drop_privileges, errno);
  if (plan.how == containment::as_nobody || plan.how == containment::rlimit)
    set_limit(RLIMIT_NPROC, plan.task_limit, plan.task_limit);
}

[[noreturn]] void run_child(const child_plan& plan) {
  setpgid(0, 0);  // its own process group: the whole box can be killed at once
  join_cgroup(plan);
  lay_out_fds(plan);
  if (!plan.working_dir.empty() && chdir(plan.working_dir.c_str()) != 0)
    child_failed(child_step::enter_folder, errno);
  set_limits(plan);
  cap_tasks(plan);
  execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  child_failed(child_step::exec, errno);
}

// --- preparing the run ------------------------------------------------------------

// lab's environment plus the request's, and LAB_RESULT_FD.
std::vector<std::string> environment_for(const sandbox_request& request) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = name == "LAB_RESULT_FD";
    for (const auto& [key, value] : request.env) replaced |= key == name;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [key, value] : request.env)
    if (key != "LAB_RESULT_FD") env.push_back(key + "=" + value);  // the channel's fd is lab's to say
  env.push_back(fmt::format("LAB_RESULT_FD={}", channel_fd));
  return env;
}

void fill_plan(child_plan& plan, const sandbox_request& request, containment how,
               const pids_cgroup& group) {
  plan.arg_text = request.argv;
  plan.env_text = environment_for(request);
  for (auto& arg : plan.arg_text) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  for (auto& entry : plan.env_text) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  plan.working_dir = request.working_dir.string();
  plan.cgroup_procs = how == containment::cgroup ? group.procs_file() : nullptr;
  plan.how = how;
  if (how == containment::as_nobody || how == containment::rlimit)
    plan.task_limit = static_cast<rlim_t>(
        tasks_of_user(how == containment::as_nobody ? nobody : getuid()) +
        request.limits.max_tasks);
  const long open_max = sysconf(_SC_OPEN_MAX);
  plan.max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;
  plan.limits = request.limits;
}

// Reads the child's set-up report: nothing if exec worked (exec closed the
// pipe), else the failed step and its errno.
std::optional<child_failure> read_child_failure(int fd) {
  child_failure failure{};
  ssize_t got = 0;
  do {
    got = read(fd, &failure, sizeof failure);
  } while (got < 0 && errno == EINTR);
  if (got != static_cast<ssize_t>(sizeof failure)) return std::nullopt;
  return failure;
}

std::string describe_failure(const child_failure& failure, const sandbox_request& request,
                             containment how) {
  const char* why = std::strerror(failure.error);
  switch (failure.step) {
    case child_step::join_cgroup: return fmt::format("cannot join the run's pids cgroup: {}", why);
    case child_step::lay_out_fds: return fmt::format("cannot set up the program's files: {}", why);
    case child_step::enter_folder:
      return fmt::format("cannot enter {}: {}", request.working_dir.string(), why);
    case child_step::drop_privileges: return fmt::format("cannot become the user nobody: {}", why);
    case child_step::exec: break;
  }
  std::string text = fmt::format("cannot run {}: {}", request.argv[0], why);
  if (how == containment::as_nobody && failure.error == EACCES)
    text +=
        " (as root without a pids cgroup, lab runs programs as the user nobody, who "
        "must be able to reach them: chmod o+rx the folders above the checkout)";
  return text;
}

// --- watching the run -------------------------------------------------------------

// Keeps the first `cap` bytes of a stream and counts them all.
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

// Waits up to 50 ms for output and drains it; a stream at its end is closed.
void poll_streams(std::vector<capture>& streams) {
  std::vector<pollfd> polled;
  for (const auto& c : streams)
    if (c.fd >= 0) polled.push_back({c.fd, POLLIN, 0});
  if (polled.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return;
  }
  if (poll(polled.data(), polled.size(), 50) <= 0) return;
  for (auto& c : streams) {
    const auto found = std::find_if(polled.begin(), polled.end(),
                                    [&](const pollfd& p) { return p.fd == c.fd && c.fd >= 0; });
    if (found != polled.end() && found->revents != 0 && !c.drain()) close_fd(c.fd);
  }
}

// The box being run: what the watch and the clean-up need to know of it.
struct box {
  pid_t pid = -1;  // the program; also its process group's id
  const pids_cgroup* group = nullptr;
  std::set<pid_t> lab_children_before;  // not ours: lab started them before the run
  bool killed = false;                  // lab killed it (timeout or cancel)
};

void kill_box(box& b) {
  kill(-b.pid, SIGKILL);
  for (pid_t pid : b.group->members()) kill(pid, SIGKILL);
  b.killed = true;
}

// Drains the program's output until it ends (and its pipes close, or 200 ms
// pass: something it started may hold them open), killing the box at the
// deadline or when *cancel is set. Returns the program's wait status, if known.
std::optional<int> watch(box& b, std::vector<capture>& streams, const sandbox_request& request,
                         steady_clock::time_point deadline, sandbox_result& result) {
  std::optional<int> status;
  bool ended = false;
  steady_clock::time_point ended_at;
  for (;;) {
    int raw = 0;
    const pid_t waited = ended ? 0 : waitpid(b.pid, &raw, WNOHANG);
    if (waited == b.pid || (waited < 0 && errno == ECHILD)) {  // ECHILD: someone else reaped it
      ended = true;
      ended_at = steady_clock::now();
      if (waited == b.pid) status = raw;
    }
    const bool open_streams =
        std::any_of(streams.begin(), streams.end(), [](const capture& c) { return c.fd >= 0; });
    const auto now = steady_clock::now();
    if (ended && (!open_streams || now - ended_at > std::chrono::milliseconds(200))) break;
    if (!ended && !b.killed) {
      if (now >= deadline) {
        result.outcome = sandbox_outcome::timed_out;
        kill_box(b);
      } else if (request.cancel != nullptr && request.cancel->load()) {
        result.outcome = sandbox_outcome::interrupted;
        kill_box(b);
      }
    }
    poll_streams(streams);
  }
  return status;
}

// --- the clean-up -------------------------------------------------------------------

// The processes of the run among `all`: the box's process group, its cgroup,
// lab's children that were not there before the run (orphans that came back
// to lab), and all their descendants.
std::vector<process_info> members_of(const box& b, const std::vector<process_info>& all,
                                     const std::set<pid_t>& in_cgroup) {
  const pid_t lab = getpid();
  std::set<pid_t> ours;
  for (const auto& p : all)
    if (p.pgid == b.pid || in_cgroup.count(p.pid) > 0 ||
        (p.ppid == lab && b.lab_children_before.count(p.pid) == 0))
      ours.insert(p.pid);
  for (bool grew = true; grew;) {  // add descendants until none is new
    grew = false;
    for (const auto& p : all)
      if (ours.count(p.ppid) > 0 && ours.insert(p.pid).second) grew = true;
  }
  ours.erase(lab);
  std::vector<process_info> members;
  for (const auto& p : all)
    if (ours.count(p.pid) > 0) members.push_back(p);
  return members;
}

// Kills every process of the run and reaps those that are lab's children,
// round after round (killing one hands its children to lab), until none is
// left that lab can reap. Returns how many were alive, not counting processes
// lab had already killed with the box (its group and cgroup, at a timeout).
int end_box(const box& b) {
  const pid_t lab = getpid();
  std::set<pid_t> counted;
  for (int round = 0; round < 400; ++round) {
    if (round == 0) kill(-b.pid, SIGKILL);  // stops forks in the group at once
    const std::set<pid_t> in_cgroup = b.group->members();
    const std::vector<process_info> all = list_processes();
    const std::vector<process_info> members = members_of(b, all, in_cgroup);
    std::set<pid_t> member_pids;
    for (const auto& p : members) member_pids.insert(p.pid);
    bool unfinished = false;
    for (const auto& p : members) {
      const bool alive = p.state != 'Z' && p.state != 'X';
      const bool killed_with_box = b.killed && (p.pgid == b.pid || in_cgroup.count(p.pid) > 0);
      if (alive && kill(p.pid, SIGKILL) == 0 && !killed_with_box) counted.insert(p.pid);
      if (p.ppid == lab) waitpid(p.pid, nullptr, WNOHANG);
      // Done with it once it is dead and will never be lab's to reap.
      if (alive || p.ppid == lab || member_pids.count(p.ppid) > 0) unfinished = true;
    }
    if (!unfinished) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return static_cast<int>(counted.size());
}

void set_outcome(sandbox_result& result, std::optional<int> status) {
  if (result.outcome == sandbox_outcome::timed_out ||
      result.outcome == sandbox_outcome::interrupted)
    return;
  result.outcome = sandbox_outcome::exited;
  if (!status) {
    result.error = "lost the program's exit status (another part of lab reaped it)";
  } else if (WIFEXITED(*status)) {
    result.exit_code = WEXITSTATUS(*status);
  } else if (WIFSIGNALED(*status)) {
    result.outcome = sandbox_outcome::signaled;
    result.term_signal = WTERMSIG(*status);
  }
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
  // "Killed" reads better as "killed" mid-sentence; "CPU time ..." keeps its acronym.
  const bool acronym = text.size() > 1 && std::isupper(static_cast<unsigned char>(text[1]));
  if (!text.empty() && !acronym)
    text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return fmt::format("SIG{} ({})", abbreviation, text);
}

sandbox_result run_sandboxed(const sandbox_request& request) {
  sandbox_result result;
  if (request.argv.empty()) {
    result.error = "no program given";
    return result;
  }
  become_subreaper();
  const auto started = steady_clock::now();

  pids_cgroup group;
  const containment how = choose_containment(request, group);
  result.containment = name_of(how);

  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, channel_pipe[2], error_pipe[2];
  if (!request.pass_output) {
    make_pipe(out_pipe);
    make_pipe(err_pipe);
  }
  make_pipe(channel_pipe);
  make_pipe(error_pipe);
  child_plan plan;
  fill_plan(plan, request, how, group);
  plan.stdout_fd = out_pipe[1];
  plan.stderr_fd = err_pipe[1];
  plan.channel_write = channel_pipe[1];
  plan.error_write = error_pipe[1];

  box b;
  b.group = &group;
  b.lab_children_before = children_of(getpid());
  b.pid = fork();
  if (b.pid == 0) run_child(plan);
  for (int* fd : {&out_pipe[1], &err_pipe[1], &channel_pipe[1], &error_pipe[1]}) close_fd(*fd);
  if (b.pid < 0) {
    result.error = fmt::format("fork failed: {}", std::strerror(errno));
    for (int* fd : {&out_pipe[0], &err_pipe[0], &channel_pipe[0], &error_pipe[0]}) close_fd(*fd);
    return result;
  }
  setpgid(b.pid, b.pid);  // also here, so that the group exists before any kill(-pid)

  const auto failure = read_child_failure(error_pipe[0]);
  close_fd(error_pipe[0]);
  if (failure) {
    waitpid(b.pid, nullptr, 0);
    for (int* fd : {&out_pipe[0], &err_pipe[0], &channel_pipe[0]}) close_fd(*fd);
    result.error = describe_failure(*failure, request, how);
    result.elapsed = steady_clock::now() - started;
    return result;
  }

  std::vector<capture> streams;
  if (!request.pass_output) {
    streams.push_back(
        {out_pipe[0], &result.out, &result.out_bytes, request.limits.output_cap_bytes});
    streams.push_back(
        {err_pipe[0], &result.err, &result.err_bytes, request.limits.output_cap_bytes});
  }
  streams.push_back({channel_pipe[0], &result.channel, nullptr, request.limits.channel_cap_bytes});
  const auto status = watch(b, streams, request, started + request.limits.timeout, result);
  for (auto& c : streams) close_fd(c.fd);

  // Nothing of the run may outlive it: not its group, not its cgroup, not the
  // orphans that left the group (setsid) and came back to lab.
  if (how == containment::cgroup) result.task_limit_hit = group.limit_hit();
  result.leftovers_killed = end_box(b);
  set_outcome(result, status);
  result.elapsed = steady_clock::now() - started;
  return result;
}

}  // namespace lab
