// Running a demo server in the foreground (lab serve): the lab-demos
// program's `--serve NAME`, in the box, its output live on the terminal,
// until the student stops it. Runs return data; cmd_serve.cpp prints.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "demo_params.hpp"
#include "demo_run.hpp"  // demo_info
#include "run.hpp"

namespace lab {

// The servers lab-demos knows (`lab-demos --servers`), each with its box:
// profiles::server() with the server's own limits. Empty if it cannot be asked.
std::vector<demo_info> available_servers();

struct serve_request {
  const demo_info* server = nullptr;
  std::uint16_t port = 0;                   // 0: the OS picks one
  demo_params params;                       // the server's other parameters
  const std::atomic<bool>* stop = nullptr;  // set to stop it
};

// Runs the server until *stop becomes true (then the box is killed: no
// process and no bound port is left) or it ends by itself.
run_result run_server(const serve_request& request);

}  // namespace lab
