#include "channel_run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <lab/unique_fd.hpp>
#include <stdexcept>

namespace lab::testing {
namespace {

constexpr auto patience = std::chrono::seconds(60);

// Reads what is there on `fd` into `sink`; false at end of file (or error).
template <typename Sink>
bool read_some(int fd, Sink sink) {
  char buffer[4096];
  const ssize_t got = read(fd, buffer, sizeof buffer);
  if (got <= 0) return false;
  sink(std::string_view(buffer, static_cast<std::size_t>(got)));
  return true;
}

}  // namespace

std::string assignment(const char* name, const std::string& value) {
  return std::string(name) + "=" + value;
}

channel_run run_with_channel(const std::string& program, const std::vector<std::string>& args,
                             const std::vector<std::string>& env, const std::string& secret) {
  pipe_ends channel = make_pipe();
  pipe_ends output = make_pipe();
  // Everything the child needs is made before fork(): after it, the child
  // may only call async-signal-safe functions (this process has threads).
  std::vector<std::string> environment = env;
  environment.push_back(assignment(protocol::env::result_fd, std::to_string(channel.write.get())));
  environment.push_back(assignment(protocol::env::run_secret, secret));
  std::vector<char*> argv{const_cast<char*>(program.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    dup2(output.write.get(), STDOUT_FILENO);
    dup2(output.write.get(), STDERR_FILENO);
    fcntl(channel.write.get(), F_SETFD, 0);  // the one descriptor it gets on purpose
    execve(program.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  channel.write.reset();
  output.write.reset();

  channel_run run;
  protocol::channel_reader reader(secret);
  const auto give_up = std::chrono::steady_clock::now() + patience;
  bool channel_open = true;
  bool output_open = true;
  while (channel_open || output_open) {
    pollfd fds[2] = {{channel_open ? channel.read.get() : -1, POLLIN, 0},
                     {output_open ? output.read.get() : -1, POLLIN, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        give_up - std::chrono::steady_clock::now());
    if (left.count() <= 0 || poll(fds, 2, static_cast<int>(left.count())) == 0) {
      kill(child, SIGKILL);
      break;
    }
    if (channel_open && fds[0].revents != 0)
      channel_open =
          read_some(channel.read.get(), [&](std::string_view bytes) { reader.feed(bytes); });
    if (output_open && fds[1].revents != 0)
      output_open =
          read_some(output.read.get(), [&](std::string_view bytes) { run.output += bytes; });
  }
  reader.finish();
  run.events = reader.take_events();
  run.rejected = reader.rejected();
  int status = 0;
  waitpid(child, &status, 0);
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  return run;
}

}  // namespace lab::testing
