// lab run in the background by a test, as a student runs it in a terminal:
// its standard input a pipe (for Enter) and its output a pipe (to learn the
// port a server listens on, or to wait for a line). Killed when destroyed.
// serving_lab is `lab serve NAME args...`; background_lab any command.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include <lab/unique_fd.hpp>

#include "lab_process.hpp"

namespace lab_test {

using namespace std::chrono_literals;

class background_lab {
 public:
  // `args` without the program: {"--course", dir, "exercise", "x", "--watch"}.
  explicit background_lab(std::vector<std::string> args) {
    args.insert(args.begin(), LAB_BINARY);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int to_lab[2], from_lab[2];
    REQUIRE(pipe(to_lab) == 0);
    REQUIRE(pipe(from_lab) == 0);
    static const auto state = lab_test::fresh_temp_dir();
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(to_lab[0], 0);
      dup2(from_lab[1], 1);
      dup2(from_lab[1], 2);
      close(to_lab[1]);
      close(from_lab[0]);
      setenv("LAB_STATE_DIR", state.c_str(), 1);
      setenv("NO_COLOR", "1", 1);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(to_lab[0]);
    close(from_lab[1]);
    input_ = lab::unique_fd(to_lab[1]);
    output_ = lab::unique_fd(from_lab[0]);
  }
  ~background_lab() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Reads lab's output until the server says where it listens (0 if it
  // does not within `deadline`).
  std::uint16_t port(std::chrono::seconds deadline = 60s) {
    static const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      std::smatch match;
      if (std::regex_search(output, match, listening))
        return static_cast<std::uint16_t>(std::stoi(match[1]));
      if (!read_some(100ms)) break;
    }
    return 0;
  }

  // Reads lab's output until `text` has appeared `times` times in all
  // (false if it has not within `deadline`, or lab ended first).
  bool wait_for(const std::string& text, int times = 1, std::chrono::seconds deadline = 120s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      int seen = 0;
      for (auto at = output.find(text); at != std::string::npos; at = output.find(text, at + 1))
        ++seen;
      if (seen >= times) return true;
      if (!read_some(100ms)) return false;
    }
    return false;
  }

  void press_enter() { REQUIRE(write(input_.get(), "\n", 1) == 1); }
  void interrupt() { kill(pid_, SIGINT); }
  void terminate() { kill(pid_, SIGTERM); }

  // Waits for lab to end (reading what it prints); -1 if it is still
  // running after `deadline`, 128 + N if a signal N ended it.
  int wait(std::chrono::seconds deadline = 30s) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > until) return -1;
      read_some(20ms);
    }
    while (read_some(0ms)) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
  }

  std::string output;

 private:
  bool read_some(std::chrono::milliseconds wait) {
    pollfd entry{output_.get(), POLLIN, 0};
    if (poll(&entry, 1, static_cast<int>(wait.count())) <= 0) return wait.count() > 0;
    char buffer[4096];
    const ssize_t got = read(output_.get(), buffer, sizeof buffer);
    if (got <= 0) return false;
    output.append(buffer, static_cast<std::size_t>(got));
    return true;
  }

  pid_t pid_ = -1;
  lab::unique_fd input_, output_;
};

class serving_lab : public background_lab {
 public:
  explicit serving_lab(std::vector<std::string> args) : background_lab(with_serve(std::move(args))) {}

 private:
  static std::vector<std::string> with_serve(std::vector<std::string> args) {
    args.insert(args.begin(), "serve");
    return args;
  }
};

}  // namespace lab_test
