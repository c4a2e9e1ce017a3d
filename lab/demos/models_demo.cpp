// echo.models: every echo server of the lessons under the same load, side
// by side: round trips per second and p99 latency at 1, 100 and 1,000
// connections, from lab load's generator (closed loop: each connection sends
// its next message when the last echo is back).
//
// lesson: event-loops, slide "An echo server with coroutines" (the figures
// behind "behaves like the select and epoll servers"); lab bench runs it.
//
// The blocking server is left out: it serves one client at a time, and a
// closed-loop client never hangs up to let the next one in. select() cannot
// watch descriptor 1024 and above; 1,000 connections stay just below that.
#include <fmt/core.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "demo.hpp"
#include "echo_clients.hpp"  // drive_load
#include "servers/server.hpp"
#include "servers/server_process.hpp"

namespace lab::demos {
namespace {

int run_models(const params& p) {
  const auto levels = p.numbers("conns");
  const double seconds = p.reals("seconds").front();
  const auto size = static_cast<std::size_t>(p.number("size"));
  const std::vector<std::string> models = {"echo.epoll",     "echo.poll",  "echo.select",
                                           "echo.coroutine", "echo.green", "echo.thread_per_client",
                                           "echo.process_per_client"};
  fmt::print("Echo round trips of {} bytes, closed loop, {:g} s per figure, lab load's generator.\n"
             "Each cell: round trips per second / p99 latency in microseconds.\n\n",
             size, seconds);
  fmt::print("{:<24}", "server");
  for (long conns : levels) fmt::print("  {:>20}", fmt::format("{} conn{}", conns, conns == 1 ? "" : "s"));
  fmt::print("\n");
  std::fflush(stdout);
  std::map<std::string, std::map<long, double>> rates;
  for (const std::string& model : models) {
    server_options fast;
    fast.chunk = 65536;  // a whole message per recv(), as the C reference reads
    server_process server(server_registry().at(model), fast);
    fmt::print("{:<24}", model);
    std::fflush(stdout);
    for (long conns : levels) {
      const load_result f = drive_load(server.port(), static_cast<int>(conns), seconds, size);
      if (!f.failure.empty()) {
        fmt::print("  {:>20}", "could not run");
        fmt::print(stderr, "\n({} at {} connections: {})\n", model, conns, f.failure);
      } else {
        fmt::print("  {:>20}", fmt::format("{:.0f} / {:.0f}", f.per_second, f.p99_us));
        rates[model][conns] = f.per_second;
        const std::string key = model.substr(model.find('.') + 1);
        report_metric(fmt::format("{}_rps_{}", key, conns), f.per_second, "rt/s");
        report_metric(fmt::format("{}_p99_us_{}", key, conns), f.p99_us, "us");
      }
      std::fflush(stdout);
    }
    fmt::print("\n");
    server.stop();
  }
  // The coroutine and green servers against the epoll loop they run on.
  fmt::print("\n");
  for (long conns : levels) {
    const double epoll = rates["echo.epoll"][conns];
    if (epoll <= 0) continue;
    for (const char* model : {"echo.coroutine", "echo.green"}) {
      const double ratio = rates[model][conns] / epoll;
      fmt::print("{} / echo.epoll at {} connections: {:.2f}x\n", model, conns, ratio);
      report_metric(fmt::format("{}_over_epoll_{}", std::string(model).substr(5), conns), ratio, "x");
    }
  }
  fmt::print("\n(Figures from one run on this machine, beside whatever else it runs; lab bench\n"
             "repeats them and compares with the course's targets.)\n");
  return 0;
}

const registration models{
    {.name = "echo.models",
     .summary = "every echo server model under the same load: round trips/s and p99 at 1, 100, 1000",
     .params = {param::numbers("conns", {1, 100, 1000}, {1, 2000}),
                param::reals("seconds", {1}, {0.1, 10}), param::number("size", 64, {1, 65536})},
     .run = run_models,
     .limits = R"({"open_files": 8192, "max_tasks": 4096})"}};

}  // namespace
}  // namespace lab::demos
