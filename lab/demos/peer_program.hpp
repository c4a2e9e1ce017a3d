// Programs a demo runs beside itself: a yardstick server from the course's
// shared peers (a C or Python echo server), a compiler, a load generator.
// The demo is in the box, so whatever it starts is boxed with it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lab::demos {

struct finished_program {
  int exit_code = -1;  // 127: it could not be started
  std::string output;  // stdout and stderr together
};

// Runs `argv` (argv[0] looked up in PATH) to its end, output captured, with
// `env` ("NAME=value" each) added to its environment.
finished_program run_to_end(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env = {});

// The course's yardsticks: ../shared/peers beside the repository.
std::filesystem::path peers_dir();

// What a Python yardstick of the peers printed (stdout and stderr), or, in
// `note`, why there is nothing: the file is not there, or python3 is not.
struct peer_script_output {
  std::string output;
  std::string note;
};
peer_script_output run_python_peer(const std::string& file);

// A server program started with `argv` and expected to listen on
// 127.0.0.1:`port`; stopped (SIGTERM, then SIGKILL) and waited for when
// destroyed. Its output goes to /dev/null.
class peer_server {
 public:
  peer_server(const std::vector<std::string>& argv, std::uint16_t port);
  ~peer_server();
  peer_server(const peer_server&) = delete;
  peer_server& operator=(const peer_server&) = delete;

  // Waits (up to a few seconds) until a connection to the port succeeds.
  // False if it ended or never listened.
  bool ready();
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_;
};

// A port that was free a moment ago, for a program that takes its port on
// its command line (it may be taken again meanwhile; rare, and ready() says so).
std::uint16_t free_port();

}  // namespace lab::demos
