// The sandbox: every way a student's program can misbehave gets its own
// verdict, in bounded time, with nothing left running afterwards.
#include "sandbox.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
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

// Live processes (zombies included) running `path`.
int processes_running(const std::string& path) {
  int count = 0;
  DIR* proc = opendir("/proc");
  while (dirent* entry = readdir(proc)) {
    const std::string pid = entry->d_name;
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    char target[4096];
    const ssize_t length = readlink(("/proc/" + pid + "/exe").c_str(), target, sizeof target - 1);
    if (length > 0 && std::string(target, static_cast<std::size_t>(length)) == path) ++count;
  }
  closedir(proc);
  return count;
}

// Runs the test body once per way of capping processes this machine offers.
std::vector<std::string> containments() {
  if (geteuid() != 0) return {"rlimit"};
  if (!lab::nobody_can_run(fixture("fork_bomb"))) {
    MESSAGE("the user nobody cannot reach ", fixture("fork_bomb"),
            ": testing the default containment only");
    return {""};
  }
  return {"", "nobody"};  // "": the default (a pids cgroup when there is one)
}

struct containment_override {
  explicit containment_override(const std::string& how) {
    if (how.empty())
      unsetenv("LAB_SANDBOX_CONTAINMENT");
    else
      setenv("LAB_SANDBOX_CONTAINMENT", how.c_str(), 1);
  }
  ~containment_override() { unsetenv("LAB_SANDBOX_CONTAINMENT"); }
};

}  // namespace

TEST_CASE("a program that exits normally reports its exit code and output") {
  const auto result = lab::run_sandboxed(request_for("channel_writer", {"7"}));
  CHECK(result.outcome == lab::sandbox_outcome::exited);
  CHECK(result.exit_code == 7);
  CHECK(result.out == "noise on stdout\n");
  CHECK(result.err == "noise on stderr\n");
}

TEST_CASE("the result channel is separate from standard output") {
  const auto result = lab::run_sandboxed(request_for("channel_writer"));
  CHECK(result.channel == "{\"event\":\"one\"}\n{\"event\":\"two\"}\n");
  CHECK(result.out.find("event") == std::string::npos);
}

TEST_CASE("a program that sleeps forever is killed after the timeout") {
  auto request = request_for("sleeper");
  request.limits.timeout = 500ms;
  const auto result = lab::run_sandboxed(request);
  CHECK(result.outcome == lab::sandbox_outcome::timed_out);
  CHECK(result.elapsed < 10s);  // a sanity bound: the run did not wait for the sleeper's 60 s
  CHECK(processes_running(fixture("sleeper")) == 0);
}

TEST_CASE("a crash is reported with the signal's name") {
  const auto segv = lab::run_sandboxed(request_for("crasher", {"segv"}));
  CHECK(segv.outcome == lab::sandbox_outcome::signaled);
  CHECK(lab::describe_signal(segv.term_signal) == "SIGSEGV (segmentation fault)");
  const auto abort = lab::run_sandboxed(request_for("crasher", {"abort"}));
  CHECK(abort.outcome == lab::sandbox_outcome::signaled);
  CHECK(lab::describe_signal(abort.term_signal) == "SIGABRT (aborted)");
}

TEST_CASE("a flood of output is capped and counted") {
  auto request = request_for("flooder");
  request.limits.timeout = 2s;
  request.limits.output_cap_bytes = 10'000;
  const auto result = lab::run_sandboxed(request);
  CHECK(result.out.size() == 10'000);
  CHECK(result.out_bytes > 10'000);
  CHECK(processes_running(fixture("flooder")) == 0);
}

TEST_CASE("a fork bomb is contained and leaves nothing behind") {
  for (const auto& how : containments()) {
    containment_override use(how);
    auto request = request_for("fork_bomb");
    request.limits.max_tasks = 32;
    request.limits.timeout = 3s;
    const auto result = lab::run_sandboxed(request);
    INFO("containment ", result.containment);
    CHECK(result.outcome == lab::sandbox_outcome::timed_out);
    if (result.containment == "cgroup") CHECK(result.task_limit_hit);
    CHECK(processes_running(fixture("fork_bomb")) == 0);
  }
}

TEST_CASE("a child that escapes the process group is killed afterwards") {
  for (const auto& how : containments()) {
    containment_override use(how);
    const auto result = lab::run_sandboxed(request_for("escaper"));
    INFO("containment ", result.containment);
    CHECK(result.outcome == lab::sandbox_outcome::exited);
    CHECK(result.leftovers_killed >= 1);
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
  CHECK(processes_running(fixture("sleeper")) == 0);
}

TEST_CASE("nobody can run a program only if every folder above it is open to others") {
  const auto folder = std::filesystem::temp_directory_path() / ("lab-nobody-" + std::to_string(getpid()));
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

TEST_CASE("as root the default containment is a pids cgroup or the user nobody") {
  const auto result = lab::run_sandboxed(request_for("channel_writer"));
  if (geteuid() == 0) {
    CHECK((result.containment == "cgroup" || result.containment == "nobody" || result.containment == "none"));
  } else {
    CHECK(result.containment == "rlimit");
  }
  MESSAGE("containment here: ", result.containment);
}
