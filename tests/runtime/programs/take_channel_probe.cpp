// Test program for protocol_test: takes the channel from its environment at
// start-up, as every program lab runs does, then says what is left of it.
//
// On stdout, one line per finding:
//   getenv result_fd unset          (or "set")
//   getenv run_secret unset
//   environ <needle> absent         (or "present"), for each argument: is it
//                                   anywhere in /proc/self/environ?
//   second take not connected       (or "connected")
//   empty environ entries 0         strings in `environ` left blank (taken
//                                   out of the block but not unset)
// On the channel it got, one check_start{"probe"}: the writer works.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <lab/protocol.hpp>
#include <lab/unique_fd.hpp>
#include <string>

extern char** environ;  // POSIX: the process's environment

namespace {

// The bytes of /proc/self/environ: the environment block the program started with.
std::string read_environ_block() {
  std::string text;
  const lab::unique_fd file(open("/proc/self/environ", O_RDONLY | O_CLOEXEC));
  char buffer[4096];
  ssize_t got = 0;
  while (file && (got = read(file.get(), buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(got));
  return text;
}

const char* set_or_unset(const char* name) {
  return std::getenv(name) != nullptr ? "set" : "unset";
}

}  // namespace

int main(int argc, char** argv) {
  namespace protocol = lab::protocol;
  const protocol::channel_writer writer = protocol::take_channel_from_environment();
  const protocol::channel_writer second = protocol::take_channel_from_environment();
  std::printf("getenv result_fd %s\n", set_or_unset(protocol::env::result_fd));
  std::printf("getenv run_secret %s\n", set_or_unset(protocol::env::run_secret));
  const std::string block = read_environ_block();
  for (int i = 1; i < argc; ++i)
    std::printf("environ %s %s\n", argv[i],
                block.find(argv[i]) != std::string::npos ? "present" : "absent");
  std::printf("second take %s\n", second.connected() ? "connected" : "not connected");
  int empty = 0;
  for (char** entry = environ; *entry != nullptr; ++entry) empty += **entry == '\0' ? 1 : 0;
  std::printf("empty environ entries %d\n", empty);
  return writer.send(protocol::check_start{"probe"}) ? 0 : 1;
}
