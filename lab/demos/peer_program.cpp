#include "peer_program.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>
#include <lab/unique_fd.hpp>

namespace lab::demos {
namespace {

[[noreturn]] void exec_or_die(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

}  // namespace

finished_program run_to_end(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env) {
  pipe_ends output = make_pipe();
  const pid_t pid = fork();
  if (pid < 0) return {};
  if (pid == 0) {
    dup2(output.write.get(), STDOUT_FILENO);
    dup2(output.write.get(), STDERR_FILENO);
    for (const auto& assignment : env) putenv(const_cast<char*>(assignment.c_str()));
    exec_or_die(argv);
  }
  output.write.reset();  // read() ends when the child's copies close
  finished_program result;
  char buffer[4096];
  for (ssize_t got; (got = read(output.read.get(), buffer, sizeof buffer)) != 0;) {
    if (got < 0) {
      if (errno == EINTR) continue;
      break;
    }
    result.output.append(buffer, static_cast<std::size_t>(got));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::filesystem::path peers_dir() {
  return std::filesystem::path(LAB_DEMOS_SOURCE_DIR).parent_path().parent_path().parent_path() /
         "shared" / "peers";
}

peer_script_output run_python_peer(const std::string& file) {
  const std::filesystem::path script = peers_dir() / file;
  std::error_code ec;
  if (!std::filesystem::exists(script, ec))
    return {"", "the yardstick shared/peers/" + file + " is not on this machine"};
  const finished_program ran = run_to_end({"python3", script.string()});
  if (ran.exit_code == 127) return {"", "python3 could not be started"};
  return {ran.output, ""};
}

peer_server::peer_server(const std::vector<std::string>& argv, std::uint16_t port) : port_(port) {
  pid_ = fork();
  if (pid_ == 0) {
    const int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    exec_or_die(argv);
  }
}

peer_server::~peer_server() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {  // up to a second to stop by itself
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

bool peer_server::ready() {
  if (pid_ <= 0) return false;
  for (int i = 0; i < 300; ++i) {  // a Python interpreter takes a moment to start
    try {
      net::connect_loopback(port_);
      return true;
    } catch (const net::error&) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {  // it ended: it will not listen
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return false;
}

std::uint16_t free_port() {
  return net::listen_loopback().port;  // closed again at the end of this line
}

}  // namespace lab::demos
