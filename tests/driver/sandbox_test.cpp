// The sandbox: every way a student's program can misbehave gets its own
// verdict, in bounded time, with nothing left running afterwards.
//
// The fixtures (tests/fixtures/programs) each do one bad thing, and each
// gives up by itself after a while. As root, the tests that matter for
// containment run once per way of capping tasks this machine offers: a pids
// cgroup, the user nobody, and (in a forked child that became nobody)
// RLIMIT_NPROC as an ordinary user sees it.
#include "sandbox.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

using namespace std::chrono_literals;

namespace {

std::string fixture(const std::string& name) {
  return std::string(LAB_FIXTURE_PROGRAMS_DIR) + "/" + name;
}

lab::sandbox_request request_for(const std::string& program, std::vector<std::string> args = {}) {
  lab::sandbox_request request;
  request.argv = {fixture(program)};
  request.argv.insert(request.argv.end(), args.begin(), args.end());
  request.limits.timeout = 20s;
  return request;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Processes descended from this test process (anything a run leaves behind
// is: the sandbox makes us a subreaper) that run `path`, zombies included:
// a zombie nobody reaped is left behind too. A zombie has no exe link, so it
// is known by its command name. Processes of other people's test runs on the
// same machine are not ours, and not counted.
int processes_running(const std::string& path) {
  struct entry {
    pid_t ppid;
    std::string command;
    char state;
  };
  std::map<pid_t, entry> all;
  DIR* proc = opendir("/proc");
  REQUIRE(proc != nullptr);
  while (dirent* d = readdir(proc)) {
    const std::string pid = d->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_text("/proc/" + pid + "/stat");
    const auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 1));
    entry e{0, stat.substr(open + 1, close - open - 1), '?'};
    rest >> e.state >> e.ppid;
    all[std::stoi(pid)] = e;
  }
  closedir(proc);
  const auto ours = [&](pid_t pid) {
    for (int depth = 0; depth < 1000 && pid > 1; ++depth) {
      if (pid == getpid()) return true;
      const auto found = all.find(pid);
      if (found == all.end()) return false;
      pid = found->second.ppid;
    }
    return false;
  };
  const std::string command = std::filesystem::path(path).filename().string().substr(0, 15);
  int count = 0;
  for (const auto& [pid, e] : all) {
    if (pid == getpid() || !ours(pid)) continue;
    char target[4096];
    const ssize_t length =
        readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), target, sizeof target - 1);
    const bool runs_it =
        length > 0 && std::string(target, static_cast<std::size_t>(length)) == path;
    if (runs_it || (e.state == 'Z' && e.command == command)) ++count;
  }
  return count;
}

// The ways of capping tasks this machine offers, to run a test once per way:
// "" is the default (a pids cgroup when there is one); "nobody" skips the
// cgroup; "none" caps nothing (only for tests that do not fork much).
std::vector<std::string> containments(bool include_none) {
  if (geteuid() != 0) return {""};
  std::vector<std::string> ways{""};
  if (lab::nobody_can_run(fixture("fork_bomb")))
    ways.push_back("nobody");
  else
    MESSAGE("the user nobody cannot reach ", fixture("fork_bomb"), ": not testing nobody");
  if (include_none) ways.push_back("none");
  return ways;
}

// Sets LAB_SANDBOX_CONTAINMENT for one scope.
struct containment_override {
  explicit containment_override(const std::string& how) {
    if (how.empty())
      unsetenv("LAB_SANDBOX_CONTAINMENT");
    else
      setenv("LAB_SANDBOX_CONTAINMENT", how.c_str(), 1);
  }
  ~containment_override() { unsetenv("LAB_SANDBOX_CONTAINMENT"); }
  containment_override(const containment_override&) = delete;
  containment_override& operator=(const containment_override&) = delete;
};

// The N of the fork bomb's "forks N" report, or -1 if it made none.
int forks_reported(const std::string& channel) {
  const auto at = channel.find("forks ");
  return at == std::string::npos ? -1 : std::atoi(channel.c_str() + at + 6);
}

// A fork bomb with max_tasks 32, bounded at 3 s.
lab::sandbox_request fork_bomb_request() {
  auto request = request_for("fork_bomb");
  request.limits.max_tasks = 32;
  request.limits.timeout = 3s;
  return request;
}

}  // namespace

TEST_CASE("a program that exits normally reports its exit code and output") {
  const auto result = lab::run_sandboxed(request_for("channel_writer", {"7"}));
  CHECK(result.outcome == lab::sandbox_outcome::exited);
  CHECK(result.exit_code == 7);
  CHECK(result.out == "noise on stdout\n");
  CHECK(result.err == "noise on stderr\n");
  CHECK(result.out_bytes == result.out.size());
  CHECK(result.leftovers_killed == 0);
}

TEST_CASE("the result channel is separate from standard output") {
  const auto result = lab::run_sandboxed(request_for("channel_writer"));
  CHECK(result.exit_code == 0);
  CHECK(result.channel == "{\"event\":\"one\"}\n{\"event\":\"two\"}\n");
  CHECK(result.out.find("event") == std::string::npos);
}

TEST_CASE(
    "the program sees only empty stdin and its output and the channel and its folder and its env") {
  const int stray = open("/dev/null", O_RDONLY);  // a file of lab's, not close-on-exec
  REQUIRE(stray >= 0);
  auto request = request_for("channel_writer", {"0", "describe"});
  request.working_dir = "/tmp";
  request.env = {{"LAB_TEST_VALUE", "forty-two"}, {"LAB_RESULT_FD", "9"}};
  const auto result = lab::run_sandboxed(request);
  close(stray);
  CHECK(result.channel == "fds 0 1 2 3\nstdin empty\ncwd /tmp\nLAB_TEST_VALUE=forty-two\n");
}

TEST_CASE("a program that sleeps forever is killed after the timeout") {
  for (const char* how : {"sleep", "deadlock"}) {
    INFO("sleeper ", how);
    auto request = request_for("sleeper", {how});
    request.limits.timeout = 500ms;
    const auto result = lab::run_sandboxed(request);
    CHECK(result.outcome == lab::sandbox_outcome::timed_out);
    CHECK(result.elapsed >= 500ms);
    CHECK(result.elapsed < 10s);  // a sanity bound: the run did not wait for the sleeper's 60 s
    CHECK(processes_running(fixture("sleeper")) == 0);
  }
}

TEST_CASE("a crash is reported with the signal's name") {
  const auto segv = lab::run_sandboxed(request_for("crasher", {"segv"}));
  CHECK(segv.outcome == lab::sandbox_outcome::signaled);
  CHECK(lab::describe_signal(segv.term_signal) == "SIGSEGV (segmentation fault)");
  const auto abort = lab::run_sandboxed(request_for("crasher", {"abort"}));
  CHECK(abort.outcome == lab::sandbox_outcome::signaled);
  CHECK(lab::describe_signal(abort.term_signal) == "SIGABRT (aborted)");
}

TEST_CASE("signals are described by their name and what they mean") {
  CHECK(lab::describe_signal(SIGSEGV) == "SIGSEGV (segmentation fault)");
  CHECK(lab::describe_signal(SIGKILL) == "SIGKILL (killed)");
  CHECK(lab::describe_signal(SIGXCPU) == "SIGXCPU (CPU time limit exceeded)");
  CHECK(lab::describe_signal(SIGFPE) == "SIGFPE (floating point exception)");
  CHECK(lab::describe_signal(1000) == "signal 1000");
}

TEST_CASE("a flood of output is capped and counted") {
  auto request = request_for("flooder");
  request.limits.timeout = 2s;
  request.limits.output_cap_bytes = 10'000;
  const auto result = lab::run_sandboxed(request);
  CHECK(result.out.size() == 10'000);
  CHECK(result.out_bytes > 10'000);
  CHECK(result.out == std::string(4095, 'x') + "\n" + std::string(4095, 'x') + "\n" +
                          std::string(10'000 - 2 * 4096, 'x'));
  CHECK(processes_running(fixture("flooder")) == 0);
}

TEST_CASE("a fork bomb is contained and leaves nothing behind") {
  for (const auto& how : containments(false)) {
    containment_override use(how);
    const auto result = lab::run_sandboxed(fork_bomb_request());
    INFO("containment ", result.containment, ", channel: ", result.channel);
    CHECK(result.containment != "none");
    CHECK(result.outcome == lab::sandbox_outcome::timed_out);
    // Stopped near 32 tasks, far below the bomb's own limit of 3000 forks.
    // (The user nobody's other processes come and go, hence some slack.)
    CHECK(forks_reported(result.channel) >= 1);
    CHECK(forks_reported(result.channel) < 4 * 32);
    if (result.containment == "cgroup") CHECK(result.task_limit_hit);
    CHECK(processes_running(fixture("fork_bomb")) == 0);
  }
}

TEST_CASE("as an ordinary user a fork bomb is capped by RLIMIT_NPROC") {
  if (geteuid() != 0) {  // then the fork bomb test above tested this already
    MESSAGE("not root: the default containment is rlimit");
    return;
  }
  if (!lab::nobody_can_run(fixture("fork_bomb"))) {
    MESSAGE("the user nobody cannot reach ", fixture("fork_bomb"), ": not testing rlimit");
    return;
  }
  // A child of this test becomes nobody and runs the box: as root,
  // RLIMIT_NPROC would not be enforced. It sends back what it saw.
  int report[2];
  REQUIRE(pipe(report) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    close(report[0]);
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    const auto result = lab::run_sandboxed(fork_bomb_request());
    const std::string text = result.containment + " " +
                             std::to_string(static_cast<int>(result.outcome)) + " " +
                             std::to_string(forks_reported(result.channel));
    _exit(write(report[1], text.data(), text.size()) < 0 ? 3 : 0);
  }
  close(report[1]);
  std::string text;
  char buffer[256];
  for (ssize_t got; (got = read(report[0], buffer, sizeof buffer)) > 0;)
    text.append(buffer, static_cast<std::size_t>(got));
  close(report[0]);
  int status = 0;
  waitpid(child, &status, 0);
  INFO("the child as nobody saw: ", text);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  std::istringstream seen(text);
  std::string containment;
  int outcome = -1, forks = -1;
  seen >> containment >> outcome >> forks;
  CHECK(containment == "rlimit");
  CHECK(outcome == static_cast<int>(lab::sandbox_outcome::timed_out));
  CHECK(forks >= 1);
  CHECK(forks < 4 * 32);
  CHECK(processes_running(fixture("fork_bomb")) == 0);
}

TEST_CASE("a child that escapes the process group is killed afterwards") {
  for (const auto& how : containments(true)) {
    containment_override use(how);
    const auto result = lab::run_sandboxed(request_for("escaper"));
    INFO("containment ", result.containment);
    CHECK(result.outcome == lab::sandbox_outcome::exited);
    CHECK(result.exit_code == 0);
    CHECK(result.leftovers_killed >= 1);
    CHECK(processes_running(fixture("escaper")) == 0);
  }
  int subreaper = 0;
  CHECK(prctl(PR_GET_CHILD_SUBREAPER, &subreaper) == 0);
  CHECK(subreaper == 1);  // else an escaped child would go to init and this test not see it
}

TEST_CASE("a timed-out box that left a child outside its group leaves nothing behind") {
  for (const auto& how : containments(true)) {
    containment_override use(how);
    auto request = request_for("escaper");
    request.limits.timeout = 1ms;  // killed at once, or just after the child escaped
    const auto result = lab::run_sandboxed(request);
    INFO("containment ", result.containment);
    CHECK((result.outcome == lab::sandbox_outcome::timed_out ||
           result.outcome == lab::sandbox_outcome::exited));
    CHECK(processes_running(fixture("escaper")) == 0);
  }
}

TEST_CASE("cancelling a run stops it") {
  std::atomic<bool> cancel{false};
  auto request = request_for("sleeper");
  request.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    cancel.store(true);
  });
  const auto result = lab::run_sandboxed(request);
  canceller.join();
  CHECK(result.outcome == lab::sandbox_outcome::interrupted);
  CHECK(result.elapsed < 10s);
  CHECK(processes_running(fixture("sleeper")) == 0);
}

TEST_CASE("the sandbox leaves alone the children lab started before the run") {
  const pid_t mine = fork();
  REQUIRE(mine >= 0);
  if (mine == 0) {
    sleep(10);
    _exit(0);
  }
  const auto result = lab::run_sandboxed(request_for("escaper"));
  CHECK(result.leftovers_killed >= 1);
  CHECK(kill(mine, 0) == 0);  // still there, and still ours to reap
  kill(mine, SIGKILL);
  int status = 0;
  CHECK(waitpid(mine, &status, 0) == mine);
  CHECK(WIFSIGNALED(status));
}

TEST_CASE("nobody can run a program only if every folder above it is open to others") {
  const auto folder =
      std::filesystem::temp_directory_path() / ("lab-nobody-" + std::to_string(getpid()));
  std::filesystem::create_directories(folder);
  std::filesystem::copy_file(fixture("channel_writer"), folder / "program",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(folder, std::filesystem::perms(0755));
  CHECK(lab::nobody_can_run(folder / "program"));
  std::filesystem::permissions(folder, std::filesystem::perms(0700));
  CHECK_FALSE(lab::nobody_can_run(folder / "program"));
  std::filesystem::remove_all(folder);
}

TEST_CASE("a missing program fails to start with a clear error") {
  lab::sandbox_request request;
  request.argv = {"/nonexistent/program"};
  const auto result = lab::run_sandboxed(request);
  CHECK(result.outcome == lab::sandbox_outcome::failed_to_start);
  CHECK(result.error == "cannot run /nonexistent/program: No such file or directory");
}

TEST_CASE("a missing working folder fails to start with a clear error") {
  auto request = request_for("channel_writer");
  request.working_dir = "/nonexistent/folder";
  const auto result = lab::run_sandboxed(request);
  CHECK(result.outcome == lab::sandbox_outcome::failed_to_start);
  CHECK(result.error == "cannot enter /nonexistent/folder: No such file or directory");
}

TEST_CASE("as root the default containment is a pids cgroup or the user nobody") {
  const auto result = lab::run_sandboxed(request_for("channel_writer"));
  if (geteuid() == 0) {
    CHECK((result.containment == "cgroup" || result.containment == "nobody" ||
           result.containment == "none"));
  } else {
    CHECK(result.containment == "rlimit");
  }
  MESSAGE("containment here: ", result.containment);
}

TEST_CASE("a set-up step that fails in the child is reported as that step with its cause") {
  // Before the fix, a failure to join the cgroup was written to a descriptor
  // that was not yet the error pipe: the cause was lost and the run showed
  // as "exit code 127".
  const std::vector<std::pair<lab::sandbox_fault, std::string>> steps = {
      {lab::sandbox_fault::join_cgroup,
       "cannot join the run's pids cgroup: Operation not permitted"},
      {lab::sandbox_fault::lay_out_fds,
       "cannot set up the program's files: Operation not permitted"},
      {lab::sandbox_fault::enter_folder, "cannot enter /tmp: Operation not permitted"}};
  for (const auto& [fault, message] : steps) {
    auto request = request_for("channel_writer");
    request.working_dir = "/tmp";
    request.fault = fault;
    const auto result = lab::run_sandboxed(request);
    CHECK(result.outcome == lab::sandbox_outcome::failed_to_start);
    CHECK(result.error == message);
  }
  if (geteuid() == 0) {  // only root gets a network namespace to fail at
    auto request = request_for("channel_writer");
    request.limits.network = lab::network_access::isolated;
    request.fault = lab::sandbox_fault::isolate_network;
    const auto result = lab::run_sandboxed(request);
    CHECK(result.outcome == lab::sandbox_outcome::failed_to_start);
    CHECK(result.error == "cannot give the program a network of its own: Operation not permitted");
  }
}

TEST_CASE("a run's scratch folder is removed even when the program locked itself out of it") {
  // The program makes a folder in its scratch space and takes away every
  // permission on it: the clean-up must still remove it all (root could
  // anyway; an ordinary user has to give the permissions back first).
  auto request = request_for("channel_writer", {"0", "lock_scratch"});
  const auto result = lab::run_sandboxed(request);
  CHECK(result.exit_code == 0);
  const std::string folder = result.channel.substr(0, result.channel.find('\n'));
  REQUIRE(folder.find("lab-run-") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(folder));
}
