// c10k.connections: thousands of idle connections held by one thread (the
// epoll echo server), and a few active clients served beside them.
//
// lesson: event-loops, slide "The C10k problem"
//
// The demo measures the active clients' round trips before the crowd comes,
// connects `clients` idle clients (each gets one byte echoed, so the server
// has taken every one in), then measures again: 20 single round trips and a
// short closed-loop load of 4 connections. It prints the server's memory per
// idle connection. The claim it checks is that every active request was
// answered; the latencies are shown, not judged.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include <lab/net/load_generator.hpp>

#include "demo.hpp"
#include "echo_clients.hpp"
#include "process_memory.hpp"
#include "servers/server.hpp"
#include "servers/server_process.hpp"

namespace lab::demos {
namespace {

// 20 small exchanges one after another: the median, and whether all were echoed.
struct active_figures {
  double median_ms = 0;
  bool all_echoed = true;
};

active_figures active_round_trips(std::uint16_t port) {
  active_figures f;
  std::vector<double> trips;
  for (int i = 0; i < 20; ++i) {
    const exchange e = small_client(port, "hi\n");
    f.all_echoed = f.all_echoed && e.echoed;
    trips.push_back(e.wait_ms());
  }
  std::sort(trips.begin(), trips.end());
  f.median_ms = trips[trips.size() / 2];
  return f;
}

net::load_report short_load(std::uint16_t port) {
  net::load_plan plan;
  plan.port = port;
  plan.connections = 4;
  plan.duration = std::chrono::milliseconds(500);
  return net::run_load(plan);
}

int run_c10k(const params& p) {
  const long clients = p.number("clients");
  server_options options;
  options.chunk = 4096;
  server_process server(server_registry().at("echo.epoll"), options);
  fmt::print("echo.epoll listening on 127.0.0.1:{}: one thread, one epoll set\n\n", server.port());
  const process_memory empty = memory_of(server.pid());
  const active_figures before = active_round_trips(server.port());
  fmt::print("Without idle clients: a small round trip takes {:.3f} ms (median of 20).\n",
             before.median_ms);
  fmt::print("Connecting {} idle clients (each gets one byte echoed, then waits)...\n", clients);
  std::fflush(stdout);
  const idle_crowd crowd(server.port(), clients, std::chrono::milliseconds(5000));
  const crowd_result& held = crowd.result();
  const process_memory full = memory_of(server.pid());
  fmt::print("  {} connected, {} echoed, {} turned away, {} silent{}{}\n", held.connected,
             held.echoed, held.turned_away, held.silent,
             held.connect_error.empty() ? "" : "; connecting stopped: ", held.connect_error);
  const active_figures during = active_round_trips(server.port());
  const net::load_report load = short_load(server.port());
  fmt::print(
      "With them: a small round trip takes {:.3f} ms (median of 20); 4 busy connections\n"
      "made {:.0f} round trips/s, p99 {:.0f} us, {} errors.\n",
      during.median_ms, load.per_second(), load.percentile_us(0.99), load.errors);
  const double kb_per_connection =
      held.echoed > 0
          ? static_cast<double>(full.pss_kb - empty.pss_kb) / static_cast<double>(held.echoed)
          : 0;
  fmt::print(
      "The server's memory: {} KB before, {} KB with them (PSS): {:.2f} KB per idle "
      "connection,\nin {} thread{}.\n",
      empty.pss_kb, full.pss_kb, kb_per_connection, full.threads, full.threads == 1 ? "" : "s");
  report_metric("connections_held", static_cast<double>(held.echoed), "connections");
  report_metric("active_median_ms", during.median_ms, "ms");
  report_metric("active_p99_us", load.percentile_us(0.99), "us");
  report_metric("kb_per_idle_connection", kb_per_connection, "KB");
  fmt::print("\n");
  if (held.echoed == clients && during.all_echoed && load.errors == 0 && load.round_trips > 0)
    fmt::print(
        "One thread held all {} connections and still answered every active request: an\n"
        "idle connection costs the event loop a socket and a little memory, never a turn.\n",
        clients);
  else
    fmt::print("This run did not hold every connection or answer every request: see above.\n");
  return 0;
}

const registration c10k{{.name = "c10k.connections",
                         .summary = "thousands of idle connections on one epoll thread, active "
                                    "clients still served",
                         .params = {param::number("clients", 10'000, {1, 15'000})},
                         .run = run_c10k,
                         .limits = R"({"open_files": 16384})"}};

}  // namespace
}  // namespace lab::demos
