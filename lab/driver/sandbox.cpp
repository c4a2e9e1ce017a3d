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
// Several boxes may run at once, from several threads of one lab (a server
// demo in one box, a load generator in another). Each box knows its own
// processes: its process group, its pids cgroup, and their descendants. The
// program itself is made a child subreaper, so orphans of the box are
// adopted inside the box while its program lives; only after it ended do
// they come back to lab (a subreaper too), and then they are leftovers of a
// box that is ending. Lab's children that belong to another running box
// (active_boxes) or were there before the run are never touched.
//
// For tests, the environment variable LAB_SANDBOX_CONTAINMENT forces a path:
// "nobody" skips the cgroup, "rlimit" uses RLIMIT_NPROC alone (which caps
// nothing for root), "none" caps nothing. Unset (or "cgroup"): automatic.
#include "sandbox.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <net/if.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
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
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "lab/protocol.hpp"
#include "lab/unique_fd.hpp"

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

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to an existing file (cgroup files must not be created).
bool write_existing(const fs::path& path, const std::string& text) {
  const unique_fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd && write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
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
  const unique_dir proc = open_dir("/proc");
  if (!proc) return;
  while (dirent* entry = readdir(proc.get())) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0') f(static_cast<pid_t>(pid));
  }
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
void become_subreaper() {
  prctl(PR_SET_CHILD_SUBREAPER, 1);
}

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

// The boxes running now in this process. A box's clean-up must never take
// the processes of another box for its own leftovers; it asks here which
// processes are claimed. Guarded by boxes_mu, which is also held across a
// box's fork and registration, so that a clean-up never sees a new box's
// program before it is registered.
struct active_box {
  pid_t pid;                 // the program, and its process group
  const pids_cgroup* group;  // its cgroup (made() is false without one)
};
std::mutex boxes_mu;
std::vector<active_box> active_boxes;  // guarded by boxes_mu

// Whether one try at a network namespace works here (root, or a kernel and
// container that allow it). Asked once, in a throwaway child, under
// boxes_mu: the child must not be taken for another box's leftover.
bool network_namespaces_work() {
  static const bool works = [] {
    const pid_t probe = fork();
    if (probe == 0) _exit(unshare(CLONE_NEWNET) == 0 ? 0 : 1);
    if (probe < 0) return false;
    int status = 0;
    while (waitpid(probe, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }();
  return works;
}

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
    case containment::cgroup:
      return "cgroup";
    case containment::as_nobody:
      return "nobody";
    case containment::rlimit:
      return "rlimit";
    case containment::none:
      return "none";
  }
  return "none";
}

// --- the child, between fork and exec: async-signal-safe calls only -------------

// The set-up step that failed in the child, sent to the parent with errno.
enum class child_step : int {
  join_cgroup,
  lay_out_fds,
  isolate_network,
  enter_folder,
  drop_privileges,
  exec
};

// Where the child reports a failed step: the error pipe's write end where
// it was created until lay_out_fds moves it to exec_error_fd. (A step that
// failed before the move once wrote to fd 4 while that was still another
// pipe, and the run showed as "exit code 127" with the cause lost.) The
// child is single-threaded between fork and exec, so a plain variable does.
int child_error_fd = -1;

struct child_failure {
  child_step step;
  int error;
};

[[noreturn]] void child_failed(child_step step, int error) {
  const child_failure failure{step, error};
  [[maybe_unused]] auto written = write(child_error_fd, &failure, sizeof failure);
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
  int max_fd = 1024;             // for closing fds by hand if close_range is missing
  bool isolate_network = false;  // a network namespace with only a loopback
  sandbox_fault fault = sandbox_fault::none;
  sandbox_limits limits;
};

// For tests: fails `step` if the request asked for a fault there.
void inject(const child_plan& plan, sandbox_fault at, child_step step) {
  if (plan.fault == at) child_failed(step, EPERM);
}

// Joins the run's cgroup first, before anything can fork: from then on every
// task of the box counts against pids.max.
void join_cgroup(const child_plan& plan) {
  inject(plan, sandbox_fault::join_cgroup, child_step::join_cgroup);
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
  if (error < 0 || dup3(error, exec_error_fd, O_CLOEXEC) < 0)
    child_failed(child_step::lay_out_fds, errno);
  child_error_fd = exec_error_fd;
  inject(plan, sandbox_fault::lay_out_fds, child_step::lay_out_fds);
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

// Moves the child into a network namespace of its own and brings its
// loopback up: the program may serve and connect on 127.0.0.1, and nothing
// else is reachable. Needs root (checked before the run).
void isolate_network(const child_plan& plan) {
  if (!plan.isolate_network) return;
  inject(plan, sandbox_fault::isolate_network, child_step::isolate_network);
  if (unshare(CLONE_NEWNET) != 0) child_failed(child_step::isolate_network, errno);
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) child_failed(child_step::isolate_network, errno);
  ifreq request{};
  std::memcpy(request.ifr_name, "lo", 3);
  if (ioctl(fd, SIOCGIFFLAGS, &request) != 0) child_failed(child_step::isolate_network, errno);
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
  if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) child_failed(child_step::isolate_network, errno);
  close(fd);
}

[[noreturn]] void run_child(const child_plan& plan) {
  child_error_fd = plan.error_write;
  setpgid(0, 0);  // its own process group: the whole box can be killed at once
  // Orphans of the box are adopted by the program, not by lab, while it
  // lives: lab can tell this box's processes from another box's. The flag
  // survives exec.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  join_cgroup(plan);
  lay_out_fds(plan);
  isolate_network(plan);
  inject(plan, sandbox_fault::enter_folder, child_step::enter_folder);
  if (!plan.working_dir.empty() && chdir(plan.working_dir.c_str()) != 0)
    child_failed(child_step::enter_folder, errno);
  set_limits(plan);
  cap_tasks(plan);
  execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  child_failed(child_step::exec, errno);
}

// --- preparing the run ------------------------------------------------------------

// A folder of the run's own, for whatever the program writes (a student's
// temporary files land here, not in the checkout). Removed with everything
// in it when the run is over, whatever the program did to it.
class scratch_folder {
 public:
  scratch_folder(const scratch_folder&) = delete;
  scratch_folder& operator=(const scratch_folder&) = delete;

  // Makes it, owned by the user the program runs as. Empty path if it cannot.
  explicit scratch_folder(containment how) {
    std::error_code ec;
    std::string pattern = (fs::temp_directory_path(ec) / "lab-run-XXXXXX").string();
    if (ec || mkdtemp(pattern.data()) == nullptr) return;
    path_ = pattern;
    if (how == containment::as_nobody && chown(pattern.c_str(), nobody, nobody) != 0) {
      fs::remove(path_, ec);
      path_.clear();
    }
  }

  ~scratch_folder() {
    if (path_.empty()) return;
    std::error_code ec;
    if (fs::remove_all(path_, ec) != static_cast<std::uintmax_t>(-1) && !ec) return;
    // The program may have taken away its own permissions on folders inside.
    for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::end(it);
         it.increment(ec))
      if (it->is_directory(ec)) fs::permissions(it->path(), fs::perms::owner_all, ec);
    fs::remove_all(path_, ec);
  }

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// lab's environment plus the request's, the scratch folder, and the
// result channel's descriptor (lab's to say, whatever the request holds).
std::vector<std::string> environment_for(const sandbox_request& request, const fs::path& scratch) {
  std::vector<std::pair<std::string, std::string>> added = request.env;
  if (!scratch.empty()) {
    added.emplace_back(protocol::env::scratch_dir, scratch.string());
    added.emplace_back(protocol::env::tmpdir, scratch.string());
  }
  added.emplace_back(protocol::env::result_fd, std::to_string(channel_fd));
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    const bool replaced = std::any_of(added.begin(), added.end(),
                                      [&](const auto& pair) { return pair.first == name; });
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [key, value] : added) {
    if (key == protocol::env::result_fd && value != std::to_string(channel_fd)) continue;
    env.push_back(key + "=" + value);
  }
  return env;
}

// The open-files limit the box can have: as root any the course asks for
// (within lab's ceiling); as an ordinary user at most lab's own hard limit.
std::uint64_t open_files_for(const sandbox_request& request, std::vector<std::string>& notes) {
  const std::uint64_t wanted = request.limits.open_files;
  rlimit now{};
  if (geteuid() == 0 || getrlimit(RLIMIT_NOFILE, &now) != 0 || now.rlim_max == RLIM_INFINITY ||
      wanted <= now.rlim_max)
    return wanted;
  notes.push_back(
      fmt::format("the run asked for {} open files, but this user may have at most {} (ulimit -Hn)",
                  wanted, now.rlim_max));
  return now.rlim_max;
}

void fill_plan(child_plan& plan, const sandbox_request& request, containment how,
               const pids_cgroup& group, const fs::path& scratch, std::vector<std::string>& notes) {
  plan.arg_text = request.argv;
  plan.env_text = environment_for(request, scratch);
  for (auto& arg : plan.arg_text) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  for (auto& entry : plan.env_text) plan.envp.push_back(entry.data());
  plan.envp.push_back(nullptr);
  plan.working_dir = request.working_dir.string();
  plan.cgroup_procs = how == containment::cgroup ? group.procs_file() : nullptr;
  plan.how = how;
  if (how == containment::as_nobody || how == containment::rlimit)
    plan.task_limit =
        static_cast<rlim_t>(tasks_of_user(how == containment::as_nobody ? nobody : getuid()) +
                            request.limits.max_tasks);
  const long open_max = sysconf(_SC_OPEN_MAX);
  plan.max_fd = open_max > 0 && open_max < 65536 ? static_cast<int>(open_max) : 65536;
  plan.limits = request.limits;
  plan.limits.open_files = open_files_for(request, notes);
  plan.fault = request.fault;
  if (request.limits.network == network_access::isolated) {
    plan.isolate_network = network_namespaces_work();
    if (!plan.isolate_network)
      notes.push_back(
          "this machine gives lab no network namespace (it needs root), so the program could "
          "reach the network, not only its own loopback");
  }
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
    case child_step::join_cgroup:
      return fmt::format("cannot join the run's pids cgroup: {}", why);
    case child_step::lay_out_fds:
      return fmt::format("cannot set up the program's files: {}", why);
    case child_step::isolate_network:
      return fmt::format("cannot give the program a network of its own: {}", why);
    case child_step::enter_folder:
      return fmt::format("cannot enter {}: {}", request.working_dir.string(), why);
    case child_step::drop_privileges:
      return fmt::format("cannot become the user nobody: {}", why);
    case child_step::exec:
      break;
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
  unique_fd fd;
  std::string* kept = nullptr;
  std::uint64_t* total = nullptr;
  std::size_t cap = 0;

  // Reads what is available; false at end of stream.
  bool drain() {
    char buffer[65536];
    const ssize_t got = read(fd.get(), buffer, sizeof buffer);
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
    if (c.fd) polled.push_back({c.fd.get(), POLLIN, 0});
  if (polled.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return;
  }
  if (poll(polled.data(), polled.size(), 50) <= 0) return;
  for (auto& c : streams) {
    const auto found = std::find_if(polled.begin(), polled.end(),
                                    [&](const pollfd& p) { return c.fd && p.fd == c.fd.get(); });
    if (found != polled.end() && found->revents != 0 && !c.drain()) c.fd.reset();
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

// CPU time and run-queue wait of every thread of the box's processes so far.
struct box_cpu {
  double running = 0;  // seconds on a CPU
  double queued = 0;   // seconds runnable but waiting for a CPU
  int threads = 0;
  int blocked = 0;  // threads asleep or in uninterruptible wait (states S, D)
};

box_cpu read_box_cpu(const box& b) {
  box_cpu total;
  const std::set<pid_t> in_cgroup = b.group->members();
  for (const auto& p : list_processes()) {
    if (p.pgid != b.pid && in_cgroup.count(p.pid) == 0) continue;
    const std::string tasks_dir = fmt::format("/proc/{}/task", p.pid);
    const unique_dir tasks = open_dir(tasks_dir.c_str());
    if (!tasks) continue;
    while (const dirent* entry = readdir(tasks.get())) {
      if (entry->d_name[0] == '.') continue;
      const std::string task = tasks_dir + "/" + entry->d_name;
      std::istringstream schedstat(read_text(task + "/schedstat"));
      double running_ns = 0, queued_ns = 0;
      if (!(schedstat >> running_ns >> queued_ns)) continue;
      total.running += running_ns / 1e9;
      total.queued += queued_ns / 1e9;
      ++total.threads;
      const std::string stat = read_text(task + "/stat");
      const auto close = stat.rfind(')');
      if (close != std::string::npos && close + 2 < stat.size() &&
          (stat[close + 2] == 'S' || stat[close + 2] == 'D'))
        ++total.blocked;
    }
  }
  return total;
}

// The box's own clock: wall time weighted by the share of it in which the
// box was not kept off the CPU (see sandbox.hpp). Read every 100 ms.
class box_clock {
 public:
  explicit box_clock(const box& b) : box_(b), last_(read_box_cpu(b)) {}

  void tick(steady_clock::time_point now) {
    if (now - last_at_ < std::chrono::milliseconds(100)) return;
    const box_cpu cpu = read_box_cpu(box_);
    const double ran = std::max(0.0, cpu.running - last_.running);
    const double queued = std::max(0.0, cpu.queued - last_.queued);
    // Neither running nor queued: every thread blocked, which counts in full.
    const double share = ran + queued > 0 ? ran / (ran + queued) : 1.0;
    const double stretch = std::chrono::duration<double>(now - last_at_).count();
    own_ += stretch * share;
    recent_.push_back({stretch * share, ran, cpu.blocked == cpu.threads && cpu.threads > 0});
    if (recent_.size() > 20) recent_.erase(recent_.begin());  // the last 2 s or so
    last_ = cpu;
    last_at_ = now;
  }

  double own_seconds() const { return own_; }
  double cpu_seconds() const { return last_.running; }

  // What the box did lately: the evidence behind "a deadlock" or "an
  // endless loop". Read from the newest half of the last couple of seconds
  // of its own time: the older half may still hold the program's start
  // (an exec, a sanitizer mapping its shadow memory: neither spinning nor
  // blocked for long), which on a busy machine can weigh as much as what
  // the program has done since.
  std::string evidence() const {
    double window = 0;
    for (const auto& r : recent_) window += r.own;
    double own = 0, ran = 0;
    bool always_blocked = !recent_.empty();
    for (auto r = recent_.rbegin(); r != recent_.rend() && (own == 0 || own < window / 2); ++r) {
      own += r->own;
      ran += r->ran;
      always_blocked = always_blocked && r->all_blocked;
    }
    if (always_blocked || (own > 0 && ran < 0.05 * own))
      return "every thread was blocked, waiting for something that never came (a deadlock, or "
             "a wait nobody ends)";
    if (own > 0 && ran > 0.5 * own)
      return fmt::format(
          "it kept the CPU busy without finishing ({:.1f} s of CPU in its last {:.1f} s: an "
          "endless loop?)",
          ran, own);
    return "it made too little progress to finish";
  }

 private:
  struct stretch_seen {
    double own;        // seconds of the box's own time
    double ran;        // CPU seconds
    bool all_blocked;  // every thread asleep at the reading
  };
  const box& box_;
  box_cpu last_;
  steady_clock::time_point last_at_ = steady_clock::now();
  double own_ = 0;
  std::vector<stretch_seen> recent_;
};

// How many timeouts of wall time a box may wait for the machine before the
// run ends as too_busy (see sandbox.hpp).
constexpr int busy_factor = 6;

// Drains the program's output until it ends (and its pipes close, or 200 ms
// pass: something it started may hold them open), killing the box when its
// own time passes the timeout, when the machine leaves it no time, or when
// *cancel is set. Returns the program's wait status, if known.
std::optional<int> watch(box& b, std::vector<capture>& streams, const sandbox_request& request,
                         steady_clock::time_point started, sandbox_result& result) {
  std::optional<int> status;
  bool ended = false;
  steady_clock::time_point ended_at;
  box_clock clock(b);
  const double timeout = std::chrono::duration<double>(request.limits.timeout).count();
  // (The second of slack covers the clock's 100 ms readings on tiny timeouts.)
  const auto busy_deadline =
      started + busy_factor * request.limits.timeout + std::chrono::seconds(1);
  for (;;) {
    int raw = 0;
    const pid_t waited = ended ? 0 : waitpid(b.pid, &raw, WNOHANG);
    if (waited == b.pid || (waited < 0 && errno == ECHILD)) {  // ECHILD: someone else reaped it
      ended = true;
      ended_at = steady_clock::now();
      if (waited == b.pid) status = raw;
    }
    const bool open_streams =
        std::any_of(streams.begin(), streams.end(), [](const capture& c) { return bool(c.fd); });
    const auto now = steady_clock::now();
    if (ended && (!open_streams || now - ended_at > std::chrono::milliseconds(200))) break;
    if (!ended && !b.killed) {
      clock.tick(now);
      if (clock.own_seconds() >= timeout) {
        result.outcome = sandbox_outcome::timed_out;
        result.timeout_evidence = clock.evidence();
        // A flood of output keeps its threads blocked on a full pipe: say
        // what they were doing, not "blocked".
        const std::uint64_t written = result.out_bytes + result.err_bytes;
        if (written > 4 * request.limits.output_cap_bytes)
          result.timeout_evidence = fmt::format(
              "it kept writing output without finishing ({:.1f} MB so far)",
              static_cast<double>(written) / 1e6);
        kill_box(b);
      } else if (now >= busy_deadline) {
        result.outcome = sandbox_outcome::too_busy;
        kill_box(b);
      } else if (request.cancel != nullptr && request.cancel->load()) {
        result.outcome = sandbox_outcome::interrupted;
        kill_box(b);
      }
    }
    poll_streams(streams);
  }
  result.cpu_seconds = clock.cpu_seconds();
  result.chance_seconds = clock.own_seconds();
  return status;
}

// --- the clean-up -------------------------------------------------------------------

// The processes that belong to the other boxes running now, among `all`:
// their programs, process groups, cgroups, and descendants.
// Caller must hold boxes_mu.
std::set<pid_t> claimed_by_others(const box& b, const std::vector<process_info>& all) {
  std::set<pid_t> claimed;
  for (const auto& other : active_boxes) {
    if (other.pid == b.pid) continue;
    const std::set<pid_t> in_cgroup = other.group->members();
    for (const auto& p : all)
      if (p.pid == other.pid || p.pgid == other.pid || in_cgroup.count(p.pid) > 0)
        claimed.insert(p.pid);
  }
  for (bool grew = true; grew;) {  // add descendants until none is new
    grew = false;
    for (const auto& p : all)
      if (claimed.count(p.ppid) > 0 && claimed.insert(p.pid).second) grew = true;
  }
  return claimed;
}

// The processes of the run among `all`: the box's process group, its cgroup,
// lab's children that were not there before the run and belong to no other
// box (orphans of this box that came back to lab), and all their
// descendants. Caller must hold boxes_mu.
std::vector<process_info> members_of(const box& b, const std::vector<process_info>& all,
                                     const std::set<pid_t>& in_cgroup) {
  const pid_t lab = getpid();
  const std::set<pid_t> others = claimed_by_others(b, all);
  std::set<pid_t> ours;
  for (const auto& p : all)
    if (p.pgid == b.pid || in_cgroup.count(p.pid) > 0 ||
        (p.ppid == lab && b.lab_children_before.count(p.pid) == 0 && others.count(p.pid) == 0))
      ours.insert(p.pid);
  for (bool grew = true; grew;) {  // add descendants until none is new
    grew = false;
    for (const auto& p : all)
      if (ours.count(p.ppid) > 0 && others.count(p.pid) == 0 && ours.insert(p.pid).second)
        grew = true;
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
    std::unique_lock lock(boxes_mu);  // no box starts or claims while we look
    const std::set<pid_t> in_cgroup = b.group->members();
    const std::vector<process_info> all = list_processes();
    const std::vector<process_info> members = members_of(b, all, in_cgroup);
    // Stops forks in the group at once; after the listing, so that what was
    // alive in the group is still counted below.
    if (round == 0) kill(-b.pid, SIGKILL);
    std::set<pid_t> member_pids;
    for (const auto& p : members) member_pids.insert(p.pid);
    bool unfinished = false;
    for (const auto& p : members) {
      const bool alive = p.state != 'Z' && p.state != 'X';
      const bool killed_with_box = b.killed && (p.pgid == b.pid || in_cgroup.count(p.pid) > 0);
      if (alive && !killed_with_box) counted.insert(p.pid);
      if (alive) kill(p.pid, SIGKILL);
      if (p.ppid == lab) waitpid(p.pid, nullptr, WNOHANG);
      // Done with it once it is dead and will never be lab's to reap.
      if (alive || p.ppid == lab || member_pids.count(p.ppid) > 0) unfinished = true;
    }
    if (!unfinished) break;
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return static_cast<int>(counted.size());
}

// Registers a box for as long as it runs (see active_boxes).
class box_registration {
 public:
  box_registration(const box_registration&) = delete;
  box_registration& operator=(const box_registration&) = delete;
  // Caller holds boxes_mu.
  box_registration(pid_t pid, const pids_cgroup* group) : pid_(pid) {
    active_boxes.push_back({pid, group});
  }
  ~box_registration() {
    const std::scoped_lock lock(boxes_mu);
    std::erase_if(active_boxes, [&](const active_box& b) { return b.pid == pid_; });
  }

 private:
  pid_t pid_;
};

void set_outcome(sandbox_result& result, std::optional<int> status) {
  if (result.outcome == sandbox_outcome::timed_out ||
      result.outcome == sandbox_outcome::too_busy ||
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
  const scratch_folder scratch(how);
  if (scratch.path().empty()) result.notes.push_back("could not make a scratch folder for the run");

  pipe_ends out, err;
  if (!request.pass_output) {
    out = make_pipe();
    err = make_pipe();
  }
  pipe_ends channel = make_pipe(), error = make_pipe();
  child_plan plan;
  {
    const std::scoped_lock lock(boxes_mu);  // the probe forks: see network_namespaces_work
    fill_plan(plan, request, how, group, scratch.path(), result.notes);
  }
  plan.stdout_fd = out.write.get();
  plan.stderr_fd = err.write.get();
  plan.channel_write = channel.write.get();
  plan.error_write = error.write.get();

  box b;
  b.group = &group;
  std::optional<box_registration> registered;
  {
    // Forked and registered under the lock: a clean-up running in another
    // thread sees this box's program either not yet born or registered.
    const std::scoped_lock lock(boxes_mu);
    b.lab_children_before = children_of(getpid());
    b.pid = fork();
    if (b.pid == 0) run_child(plan);
    if (b.pid > 0) registered.emplace(b.pid, &group);
  }
  for (unique_fd* end : {&out.write, &err.write, &channel.write, &error.write}) end->reset();
  if (b.pid < 0) {
    result.error = fmt::format("fork failed: {}", std::strerror(errno));
    return result;
  }
  setpgid(b.pid, b.pid);  // also here, so that the group exists before any kill(-pid)

  const auto failure = read_child_failure(error.read.get());
  error.read.reset();
  if (failure) {
    while (waitpid(b.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    result.error = describe_failure(*failure, request, how);
    result.elapsed = steady_clock::now() - started;
    return result;
  }

  std::vector<capture> streams;
  if (!request.pass_output) {
    streams.push_back(
        {std::move(out.read), &result.out, &result.out_bytes, request.limits.output_cap_bytes});
    streams.push_back(
        {std::move(err.read), &result.err, &result.err_bytes, request.limits.output_cap_bytes});
  }
  streams.push_back(
      {std::move(channel.read), &result.channel, nullptr, request.limits.channel_cap_bytes});
  const auto status = watch(b, streams, request, started, result);
  streams.clear();  // closes what is still open

  // Nothing of the run may outlive it: not its group, not its cgroup, not the
  // orphans that left the group (setsid) and came back to lab.
  if (how == containment::cgroup) result.task_limit_hit = group.limit_hit();
  result.leftovers_killed = end_box(b);
  set_outcome(result, status);
  result.elapsed = steady_clock::now() - started;
  return result;
}

}  // namespace lab
