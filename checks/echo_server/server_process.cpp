#include "server_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <thread>

#include <lab/net/socket.hpp>
#include <lab/todo.hpp>

#include "stall_watch.hpp"

namespace echo_check {
namespace {

// The child's report: a word for how serve() ended, a space, the message.
constexpr std::string_view returned_word = "returned";
constexpr std::string_view todo_word = "todo";
constexpr std::string_view threw_word = "threw";

// Writes all of `text` to `fd` (the report pipe), as far as it goes.
void write_report(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return;
    done += static_cast<std::size_t>(wrote);
  }
}

// The child's whole life: serve, say how it ended, _exit (never return into
// the check harness, which would go on running the checks in the child).
[[noreturn]] void run_child(serve_function serve, int listener_fd, int stop_fd, int report_fd) {
  // A server dies of SIGPIPE when it sends to a reset client without
  // MSG_NOSIGNAL: let it, as it would outside the checks, so the check can say so.
  ::signal(SIGPIPE, SIG_DFL);
  std::string report;
  try {
    serve(listener_fd, stop_fd);
    report = std::string(returned_word) + " ";
  } catch (const lab::not_done& error) {
    report = std::string(todo_word) + " " + error.what();
  } catch (const std::exception& error) {
    report = std::string(threw_word) + " " + error.what();
  } catch (...) {
    report = std::string(threw_word) + " an exception that is not a std::exception";
  }
  write_report(report_fd, report);
  ::_exit(0);
}

// The whole report the child wrote (it is closed when the child ends).
std::string read_report(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return text;
    text.append(buffer, static_cast<std::size_t>(got));
  }
}

server_end end_from(int status, const std::string& report) {
  if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    const char* name = sigabbrev_np(signal_number);
    return {server_end::kind::signalled, "died of SIG" + std::string(name != nullptr ? name : "?") +
                                             " (" + std::string(strsignal(signal_number)) + ")"};
  }
  if (WEXITSTATUS(status) != 0 || report.empty())
    return {server_end::kind::exited,
            "exited with status " + std::to_string(WEXITSTATUS(status)) + " (exit() called)"};
  const auto space = report.find(' ');
  const std::string word = report.substr(0, space);
  const std::string text = space == std::string::npos ? "" : report.substr(space + 1);
  if (word == todo_word) return {server_end::kind::todo, text};
  if (word == threw_word) return {server_end::kind::threw, text};
  return {server_end::kind::returned, ""};
}

}  // namespace

server_process::server_process(serve_function serve) {
  lab::net::listener listener = lab::net::listen_loopback();
  port_ = listener.port;
  // Accepted sockets inherit the listener's send buffer size. A small, fixed
  // one (no autotuning up to megabytes) makes partial sends happen here as
  // they do on a slow network, so that a server that ignores them shows it.
  const int send_buffer = 64 << 10;
  if (::setsockopt(listener.fd.get(), SOL_SOCKET, SO_SNDBUF, &send_buffer, sizeof send_buffer) != 0)
    throw std::runtime_error(std::string("setsockopt SO_SNDBUF: ") + std::strerror(errno));
  int stop_pipe[2], report_pipe[2];
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0 || ::pipe2(report_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  lab::unique_fd stop_read(stop_pipe[0]), report_write(report_pipe[1]);
  stop_write_.reset(stop_pipe[1]);
  report_read_.reset(report_pipe[0]);
  // What the parent printed so far must not be printed again by the child.
  std::fflush(stdout);
  std::fflush(stderr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    stop_write_.reset();
    report_read_.reset();
    run_child(serve, listener.fd.get(), stop_read.get(), report_write.get());
  }
  // The parent's copies of the child's ends close here (unique_fd), the
  // listener's too: only the child holds it now.
}

server_process::~server_process() {
  if (end_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::optional<server_end> server_process::ended() {
  if (end_) return end_;
  int status = 0;
  const pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done != pid_) return std::nullopt;
  end_ = end_from(status, read_report(report_read_.get()));
  return end_;
}

server_end server_process::stop() {
  if (const auto end = ended()) return *end;
  const char byte = 'q';
  while (::write(stop_write_.get(), &byte, 1) < 0 && errno == EINTR) {
  }
  stall_watch watch(pid_);
  for (;;) {
    if (const auto end = ended()) return *end;
    const auto verdict = watch.look();
    if (verdict != stall_watch::verdict::keep_waiting) {
      server_end end{
          verdict == stall_watch::verdict::stuck ? server_end::kind::stop_ignored
                                                 : server_end::kind::too_busy,
          verdict == stall_watch::verdict::stuck
              ? "did not return after the stop descriptor became readable: " + watch.stuck_words()
              : "the machine was too busy to see the server stop"};
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      end_ = end;
      return end;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string describe(const server_end& end) {
  switch (end.how) {
    case server_end::kind::returned:
      return "the server returned";
    case server_end::kind::todo:
      return end.text;
    case server_end::kind::threw:
      return "the server stopped: it threw \"" + end.text +
             "\". A client that hangs up or resets (ECONNRESET, EPIPE) ends that client, not "
             "the server: close its socket and go on serving the others";
    case server_end::kind::exited:
      return "the server " + end.text +
             ": a client's error (a reset, a hang-up) ends that client, not the server";
    case server_end::kind::signalled:
      return "the server " + end.text +
             (end.text.find("SIGPIPE") != std::string::npos
                  ? ": a send() to a client that is gone raises SIGPIPE unless it is given "
                    "MSG_NOSIGNAL (lab::net::send_some and send_all do)"
                  : ": a crash");
    case server_end::kind::stop_ignored:
      return "the server " + end.text;
    case server_end::kind::too_busy:
      return end.text;
  }
  return end.text;
}

}  // namespace echo_check
