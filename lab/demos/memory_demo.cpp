// server.memory: what one more connection costs a server, for each of the
// three models: a thread per client, a process per client, an event loop.
//
// lesson: threads-processes, slide "Which to use for a server?"
//
// For each model the demo starts the echo server, reads its memory (RSS and
// PSS summed over its processes, process_memory.hpp), connects `clients`
// clients that each get one byte echoed (so that every thread or process
// exists) and stay connected, idle, and reads the memory again. The
// difference divided by the clients is the cost of a connection.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "demo.hpp"
#include "echo_clients.hpp"
#include "process_memory.hpp"
#include "servers/server.hpp"
#include "servers/server_process.hpp"

namespace lab::demos {
namespace {

struct model_cost {
  const char* server;
  const char* model;
  process_memory before, after;
  long clients = 0;  // held and echoed
  double rss_per_client_kb() const {
    return clients > 0
               ? static_cast<double>(after.rss_kb - before.rss_kb) / static_cast<double>(clients)
               : 0;
  }
  double pss_per_client_kb() const {
    return clients > 0
               ? static_cast<double>(after.pss_kb - before.pss_kb) / static_cast<double>(clients)
               : 0;
  }
};

model_cost measure(const char* server_name, const char* model, long clients) {
  model_cost cost{server_name, model, {}, {}, 0};
  server_options options;
  options.chunk = 4096;
  server_process server(server_registry().at(server_name), options);
  cost.before = memory_of(server.pid());
  const idle_crowd crowd(server.port(), clients, std::chrono::milliseconds(5000));
  cost.clients = crowd.result().echoed;
  cost.after = memory_of(server.pid());
  if (crowd.result().echoed != clients)
    fmt::print("  ({}: only {} of {} clients were echoed{}{})\n", server_name,
               crowd.result().echoed, clients, crowd.result().connect_error.empty() ? "" : ": ",
               crowd.result().connect_error);
  return cost;
}

int run_memory(const params& p) {
  const long clients = p.number("clients");
  fmt::print(
      "{} idle clients against each server model (each client had one byte echoed,\n"
      "so that its thread or process exists); memory of the server's processes:\n\n",
      clients);
  std::fflush(stdout);
  std::vector<model_cost> costs = {
      measure("echo.thread_per_client", "a thread per client", clients),
      measure("echo.process_per_client", "a process per client", clients),
      measure("echo.epoll", "an event loop (epoll)", clients)};
  fmt::print("{:<22} {:>9} {:>8} {:>11} {:>11} {:>14} {:>14}\n", "model", "processes", "threads",
             "RSS before", "RSS after", "RSS per client", "PSS per client");
  for (const model_cost& c : costs)
    fmt::print("{:<22} {:>9} {:>8} {:>8} KB {:>8} KB {:>11.1f} KB {:>11.1f} KB\n", c.model,
               c.after.processes, c.after.threads, c.before.rss_kb, c.after.rss_kb,
               c.rss_per_client_kb(), c.pss_per_client_kb());
  report_metric("pss_per_client_thread_kb", costs[0].pss_per_client_kb(), "KB");
  report_metric("pss_per_client_process_kb", costs[1].pss_per_client_kb(), "KB");
  report_metric("pss_per_client_event_loop_kb", costs[2].pss_per_client_kb(), "KB");
  const bool all_held = std::all_of(costs.begin(), costs.end(),
                                    [&](const model_cost& c) { return c.clients == clients; });
  const bool ordered = costs[2].pss_per_client_kb() < costs[0].pss_per_client_kb() &&
                       costs[0].pss_per_client_kb() < costs[1].pss_per_client_kb();
  fmt::print("\n");
  if (all_held && ordered)
    fmt::print(
        "An idle connection cost the event loop least ({:.1f} KB), a thread more ({:.1f} KB: the\n"
        "pages of its stack it touched), a process most ({:.1f} KB: the pages it copied on\n"
        "write). PSS splits a page shared by k processes into k parts; RSS counts it in each.\n"
        "The kernel's share (socket buffers, kernel stacks, page tables) is not in these "
        "figures.\n",
        costs[2].pss_per_client_kb(), costs[0].pss_per_client_kb(), costs[1].pss_per_client_kb());
  else
    fmt::print(
        "This run did not show the usual order (event loop < thread < process): see the "
        "table.\n");
  return 0;
}

const registration memory_demo{
    {.name = "server.memory",
     .summary = "memory per connection of a thread, a process and an event loop per client",
     .params = {param::number("clients", 1000, {10, 2000})},
     .run = run_memory,
     .limits = R"({"max_tasks": 4096, "open_files": 8192})"}};

}  // namespace
}  // namespace lab::demos
