#include "lab_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace lab_test {
namespace fs = std::filesystem;
std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

fs::path fresh_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "lab-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) FAIL("cannot make a temporary folder");
  return pattern;
}

lab_run run_lab(const std::vector<std::string>& args,
                const std::vector<std::pair<std::string, std::string>>& env,
                std::chrono::seconds timeout) {
  static const fs::path state = fresh_temp_dir();
  const fs::path out_file = fresh_temp_dir() / "out";
  const fs::path err_file = out_file.parent_path() / "err";
  std::vector<std::string> argv = {LAB_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (auto& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);

  const auto started = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    setpgid(0, 0);
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const char* stdin_file = nullptr;  // a test's script (LAB_STDIN in env), else nothing
    for (const auto& [name, value] : env)
      if (name == "LAB_STDIN") stdin_file = value.c_str();
    const int in = open(stdin_file != nullptr ? stdin_file : "/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    setenv("LAB_STATE_DIR", state.c_str(), 1);
    setenv("NO_COLOR", "1", 1);
    for (const auto& [name, value] : env)
      if (name != "LAB_STDIN") setenv(name.c_str(), value.c_str(), 1);
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  lab_run run;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() - started > timeout) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      status = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  run.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_text(out_file);
  run.err = read_text(err_file);
  fs::remove_all(out_file.parent_path());
  return run;
}

nlohmann::json output_json(const lab_run& run) {
  INFO("stdout: ", run.out, "\nstderr: ", run.err);
  nlohmann::json document = nlohmann::json::parse(run.out, nullptr, false);
  REQUIRE_FALSE(document.is_discarded());
  return document;
}

std::string first_address(const std::string& text) {
  static const std::regex address("0x[0-9a-f]{6,}", std::regex::icase);
  std::smatch found;
  return std::regex_search(text, found, address) ? found.str() : "";
}

fs::path fixture_course() {
  return fs::path(LAB_TEST_SOURCE_DIR) / "tests" / "fixtures" / "course";
}
fs::path fixture_course_copy() {
  const fs::path course = fresh_temp_dir() / "course";
  fs::copy(fixture_course(), course, fs::copy_options::recursive);
  return course;
}
fs::path repository() {
  return LAB_TEST_SOURCE_DIR;
}

std::vector<pid_t> processes_running(const std::string& fragment) {
  std::vector<pid_t> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (dirent* entry = readdir(proc)) {
    const std::string name = entry->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/" + name + "/exe", ec);
    if (!ec && exe.string().find(fragment) != std::string::npos) found.push_back(std::stoi(name));
  }
  closedir(proc);
  return found;
}

namespace {

// The parent of `pid` (field 4 of /proc/PID/stat), or 0 if it is gone.
pid_t parent_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  // The command name (field 2) is in parentheses and may hold spaces: read
  // on from the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 1));
  std::string state;
  pid_t parent = 0;
  rest >> state >> parent;
  return parent;
}

}  // namespace

std::vector<pid_t> processes_left_behind(const std::string& fragment, pid_t ours) {
  const fs::path lab = fs::weakly_canonical(LAB_BINARY);
  const std::string tests_dir = fs::weakly_canonical(LAB_TEST_BINARY_DIR).string() + "/tests/";
  std::vector<pid_t> left;
  for (pid_t pid : processes_running(fragment)) {
    // Up the ancestry: a demo's own children (a demo server, its processes
    // per client) have a lab further up, not as their parent; and a test
    // that runs lab-demos itself (without lab) is its ancestor.
    bool another_labs = false;
    for (pid_t up = parent_of(pid); up > 1 && up != ours && up != getpid(); up = parent_of(up)) {
      std::error_code ec;
      const std::string exe = fs::read_symlink("/proc/" + std::to_string(up) + "/exe", ec).string();
      if (!ec && (exe == lab.string() || exe.rfind(tests_dir, 0) == 0)) {
        another_labs = true;
        break;
      }
    }
    if (!another_labs) left.push_back(pid);
  }
  return left;
}

on_cpu_zero::on_cpu_zero() {
  sched_getaffinity(0, sizeof before_, &before_);
  cpu_set_t zero;
  CPU_ZERO(&zero);
  CPU_SET(0, &zero);
  REQUIRE(sched_setaffinity(0, sizeof zero, &zero) == 0);
}

on_cpu_zero::~on_cpu_zero() {
  sched_setaffinity(0, sizeof before_, &before_);
}

}  // namespace lab_test
