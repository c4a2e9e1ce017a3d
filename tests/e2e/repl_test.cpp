// End-to-end: the REPL, driven through a pipe (a scripted session compared
// with a saved reference) and through a real pseudo-terminal (prompt, tab
// completion, history, Ctrl-C during a demo).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lab_process.hpp"

namespace fs = std::filesystem;

namespace {

// Runs lab's REPL on the fixture course with `script` on standard input.
lab_test::lab_run scripted_session(const std::string& script) {
  const auto folder = lab_test::fresh_temp_dir();
  std::ofstream(folder / "script") << script;
  return lab_test::run_lab(
      {"--course", lab_test::fixture_course().string()},
      {{"LAB_STDIN", (folder / "script").string()}, {"LAB_STATE_DIR", folder.string()}});
}

// A lab REPL on a pseudo-terminal.
class pty_session {
 public:
  pty_session() {
    state_ = lab_test::fresh_temp_dir();
    pid_ = forkpty(&fd_, nullptr, nullptr, nullptr);
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      setenv("TERM", "xterm", 1);
      setenv("NO_COLOR", "1", 1);
      setenv("LAB_STATE_DIR", state_.c_str(), 1);
      const std::string course = lab_test::fixture_course().string();
      execl(LAB_BINARY, LAB_BINARY, "--course", course.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~pty_session() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(fd_);
  }
  void send(const std::string& keys) {
    REQUIRE(write(fd_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
  }
  // Reads until `text` appears after the last match, or the time runs out.
  bool expect(const std::string& text, std::chrono::seconds patience = std::chrono::seconds(60)) {
    const auto give_up = std::chrono::steady_clock::now() + patience;
    while (std::chrono::steady_clock::now() < give_up) {
      if (const auto at = seen_.find(text, consumed_); at != std::string::npos) {
        consumed_ = at + text.size();
        return true;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buffer[4096];
        const ssize_t got = read(fd_, buffer, sizeof buffer);
        if (got <= 0) break;
        seen_.append(buffer, static_cast<std::size_t>(got));
      }
    }
    return false;
  }
  // Waits for the REPL to exit; its exit code, or -1.
  int wait_exit() {
    for (int i = 0; i < 500; ++i) {
      int status = 0;
      char buffer[4096];
      while (read(fd_, buffer, sizeof buffer) >
             0) {  // drain, so lab never blocks on a full terminal
      }
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      usleep(20'000);
    }
    return -1;
  }
  const std::string& seen() const { return seen_; }
  fs::path state() const { return state_; }

  pid_t pid() const { return pid_; }  // the lab under test, while it runs

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
  fs::path state_;
  std::string seen_;
  std::size_t consumed_ = 0;
};

}  // namespace

TEST_CASE("a scripted REPL session prints exactly the saved reference") {
  const auto run = scripted_session(
      "lessons\nopen sample\n\nback\ngoto 3\nshow\nrun\nnext\nnext\nhint\nopn "
      "sample\nprogress\nquit\n");
  const fs::path reference = fs::path(LAB_TEST_SOURCE_DIR) / "tests/e2e/reference/repl_session.txt";
  if (std::getenv("LAB_UPDATE_REFERENCE") != nullptr) std::ofstream(reference) << run.out;
  INFO("stderr: ", run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out == lab_test::read_text(reference));
  CHECK(run.out.find("\x1b[") == std::string::npos);  // no escape codes through a pipe
  CHECK(run.out.find("lab>") == std::string::npos);   // no prompt through a pipe
  CHECK(run.err.find("unknown command 'opn'. Did you mean: open") != std::string::npos);
  CHECK(run.err.find("02-broken.md:5: a code block opened here is never closed") !=
        std::string::npos);
}

TEST_CASE("the REPL ends at the end of its input") {
  const auto run = scripted_session("open sample\n");
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("A sample lesson") != std::string::npos);
}

TEST_CASE("in the REPL a student plays the scheduler to a lost update and carries on") {
  const auto folder = lab_test::fresh_temp_dir();
  std::ofstream(folder / "script") << "step counter\nab\nu\nbab\nab\nq\nlessons\nquit\n";
  const auto run = lab_test::run_lab(
      {}, {{"LAB_STDIN", (folder / "script").string()}, {"LAB_STATE_DIR", folder.string()}});
  INFO("stderr: ", run.err);
  CHECK(run.exit_code == 0);
  // a, b, undo b, then b a b, a b: the schedule is A then BAB then AB.
  CHECK(run.out.find("You win: n = 1 (an update was lost). Schedule ABABAB") != std::string::npos);
  CHECK(run.out.find("races") != std::string::npos);  // back at the prompt: lessons listed
}

TEST_CASE("on a terminal the REPL prompts and completes names and keeps history") {
  pty_session session;
  REQUIRE(session.expect("lab> "));
  // libedit redraws the line with cursor moves, so the proof of completion is
  // its effect: "op<Tab>sam<Tab>" must have become "open sample".
  session.send("op\tsam\t\r");
  CHECK(session.expect("lab[sample 1/4]> "));
  session.send("\r");  // a bare Enter goes to the next slide
  CHECK(session.expect("lab[sample 2/4]> "));
  session.send("\x1b[A\r");  // up arrow: "open sample" again, back to slide 1
  CHECK(session.expect("lab[sample 1/4]> "));
  session.send("quit\r");
  CHECK(session.wait_exit() == 0);
  // libedit's history file encodes spaces ("open\\040sample"): look for the words.
  const std::string history = lab_test::read_text(session.state() / "history");
  CHECK(history.find("open") != std::string::npos);
  CHECK(history.find("sample") != std::string::npos);
}

TEST_CASE("Ctrl-C stops a running demo and returns to the prompt and leaves no process behind") {
  pty_session session;
  REQUIRE(session.expect("lab> "));
  session.send("open sample\r");
  REQUIRE(session.expect("lab[sample 1/4]> "));
  session.send("goto 2\r");
  REQUIRE(session.expect("lab[sample 2/4]> "));
  session.send("run\r");
  REQUIRE(session.expect("primes below 300000"));
  session.send("\x03");
  CHECK(session.expect("(demo stopped)"));
  CHECK(session.expect("lab[sample 2/4]> "));
  CHECK(lab_test::processes_left_behind("lab-demos", session.pid()).empty());
  session.send("quit\r");
  CHECK(session.wait_exit() == 0);
}
