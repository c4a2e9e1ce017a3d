// echo.yardsticks: lab's epoll echo server beside the yardsticks of the
// course's shared peers, driven by the same load generator in the same run:
// a minimal C epoll echo server (the practical ceiling of one core), and
// CPython's select, asyncio and gevent echo servers (gevent when Debian's
// python3-gevent is installed). Also lab's load generator
// against the peers' own (echoload), and the Shakespeare wait of the blocking
// server against the select server's. For lab bench; the figures are ratios
// within one run, since machines differ.
//
// lesson: event-loops, slide "epoll"
//
// The peers are looked for in shared/peers beside the checkout (the course's
// shared material); a peer that is missing, or a tool that cannot build it,
// is reported and skipped.
#include <fmt/core.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <string_view>

#include <lab/net/load_generator.hpp>

#include "demo.hpp"
#include "echo_clients.hpp"
#include "peer_program.hpp"
#include "servers/server.hpp"
#include "servers/server_process.hpp"

namespace lab::demos {
namespace {

namespace fs = std::filesystem;

// Builds the C file `name` of the peers into the scratch folder; nullopt (and
// a line saying why) if it cannot.
std::optional<fs::path> build_peer(const std::string& name) {
  const fs::path source = peers_dir() / (name + ".c");
  if (!fs::exists(source)) {
    fmt::print("  ({} is not there: {} is skipped)\n", source.string(), name);
    return std::nullopt;
  }
  const fs::path binary = fs::temp_directory_path() / name;
  const finished_program cc = run_to_end({"cc", "-O2", "-o", binary.string(), source.string()});
  if (cc.exit_code != 0) {
    fmt::print("  (cc could not build {}: {} is skipped)\n{}", source.string(), name, cc.output);
    return std::nullopt;
  }
  return binary;
}

// The load, or a line saying why it could not run (then no figures).
load_result drive(std::uint16_t port, int connections, double seconds, std::size_t size) {
  load_result result = drive_load(port, connections, seconds, size);
  if (!result.failure.empty()) fmt::print("  (the load could not run: {})\n", result.failure);
  return result;
}

// The small client's wait beside the big one, on `server`.
double shakespeare_wait_ms(const char* server, std::size_t bytes) {
  server_process process(server_registry().at(server), server_options{});
  big_client big(process.port(), bytes, 64 << 10);
  big.wait_for_mark();
  const exchange small = small_client(process.port(), "hi\n");
  big.finish();
  return small.wait_ms();
}

int run_yardsticks(const params& p) {
  const auto levels = p.numbers("conns");
  const double seconds = p.reals("seconds").front();
  const auto size = static_cast<std::size_t>(p.number("size"));
  fmt::print(
      "Echo round trips of {} bytes, closed loop, {:g} s per row; lab load's generator\n"
      "for every server (peers from {})\n\n",
      size, seconds, peers_dir().string());
  std::fflush(stdout);
  server_options fast;
  fast.chunk = 65536;  // as the C reference reads
  server_process lab_server(server_registry().at("echo.epoll"), fast);
  std::optional<peer_server> reference;
  if (const auto binary = build_peer("echo_epoll_ref")) {
    const std::uint16_t port = free_port();
    reference.emplace(std::vector<std::string>{binary->string(), std::to_string(port)}, port);
    if (!reference->ready()) {
      fmt::print("  (the C reference did not start listening: skipped)\n");
      reference.reset();
    }
  }
  fmt::print("{:>6}  {:>14} {:>10}  {:>14} {:>10}  {:>9}\n", "conns", "lab epoll rt/s", "p99 us",
             "C epoll rt/s", "p99 us", "lab / C");
  for (long conns : levels) {
    const load_result ours = drive(lab_server.port(), static_cast<int>(conns), seconds, size);
    load_result theirs;
    if (reference) theirs = drive(reference->port(), static_cast<int>(conns), seconds, size);
    const double ratio = theirs.per_second > 0 ? ours.per_second / theirs.per_second : 0;
    fmt::print("{:>6}  {:>14.0f} {:>10.0f}  {:>14.0f} {:>10.0f}  {:>8.2f}x\n", conns,
               ours.per_second, ours.p99_us, theirs.per_second, theirs.p99_us, ratio);
    std::fflush(stdout);
    report_metric(fmt::format("lab_epoll_rps_{}", conns), ours.per_second, "rt/s");
    report_metric(fmt::format("lab_epoll_p99_us_{}", conns), ours.p99_us, "us");
    if (reference) report_metric(fmt::format("lab_over_c_reference_{}", conns), ratio, "x");
  }
  // CPython's servers, at 100 connections (select() could not take 1000).
  fmt::print("\nAt 100 connections, beside CPython's servers:\n");
  const load_result ours = drive(lab_server.port(), 100, seconds, size);
  for (const char* peer : {"echo_select_py", "echo_asyncio_py", "echo_gevent_py"}) {
    const fs::path script = peers_dir() / (std::string(peer) + ".py");
    if (!fs::exists(script)) {
      fmt::print("  ({} is not there: skipped)\n", script.string());
      continue;
    }
    // gevent is not in CPython itself: without its module the server could
    // not start, so ask first, and say what is missing.
    if (std::string_view(peer) == "echo_gevent_py" &&
        run_to_end({"python3", "-c", "import gevent"}).exit_code != 0) {
      fmt::print("  ({} needs CPython's gevent module, not installed here (Debian: "
                 "python3-gevent): skipped)\n",
                 peer);
      continue;
    }
    const std::uint16_t port = free_port();
    peer_server python({"python3", script.string(), std::to_string(port)}, port);
    if (!python.ready()) {
      fmt::print("  ({} did not start listening: skipped)\n", peer);
      continue;
    }
    const load_result theirs = drive(port, 100, seconds, size);
    const double ratio = theirs.per_second > 0 ? ours.per_second / theirs.per_second : 0;
    fmt::print("  {:<16} {:>9.0f} rt/s, p99 {:>6.0f} us; lab's epoll server {:.2f}x\n", peer,
               theirs.per_second, theirs.p99_us, ratio);
    report_metric(fmt::format("lab_over_{}_100", peer), ratio, "x");
  }
  // The load generators against the same C server.
  if (reference) {
    if (const auto echoload = build_peer("echoload")) {
      const finished_program run =
          run_to_end({echoload->string(), std::to_string(reference->port()), "100",
                      fmt::format("{:g}", seconds), std::to_string(size)});
      std::smatch match;
      static const std::regex rps(R"(rps=([0-9.]+))");
      const load_result ours_on_c = drive(reference->port(), 100, seconds, size);
      if (std::regex_search(run.output, match, rps)) {
        const double theirs = std::stod(match[1]);
        fmt::print(
            "\nThe C reference at 100 connections: echoload drives {:.0f} rt/s, lab load "
            "{:.0f} rt/s ({:.2f}x)\n",
            theirs, ours_on_c.per_second, ours_on_c.per_second / theirs);
        report_metric("lab_load_over_echoload", ours_on_c.per_second / theirs, "x");
      } else {
        fmt::print("\n(echoload printed no rate: {})\n", run.output);
      }
    }
  }
  reference.reset();
  lab_server.stop();
  // Shakespeare: the small client's wait, blocking against select.
  const std::size_t bytes = static_cast<std::size_t>(p.number("big_kb")) << 10;
  const double blocking = shakespeare_wait_ms("echo.blocking", bytes);
  const double selecting = shakespeare_wait_ms("echo.select", bytes);
  fmt::print(
      "\nShakespeare ({} KB, 16 bytes per recv()): the small client waited {:.3f} ms on\n"
      "the blocking server, {:.3f} ms on the select server: {:.1f}x.\n",
      bytes >> 10, blocking, selecting, blocking / selecting);
  report_metric("blocking_over_select_wait", blocking / selecting, "x");
  return 0;
}

const registration yardsticks{
    {.name = "echo.yardsticks",
     .summary = "lab's epoll echo server against the C and CPython yardsticks, same load, same run",
     .params = {param::numbers("conns", {1, 100, 1000}, {1, 2000}),
                param::reals("seconds", {1}, {0.1, 10}), param::number("size", 64, {1, 65536}),
                param::number("big_kb", 4096, {16, 65536})},
     .run = run_yardsticks,
     .limits = R"({"open_files": 8192})"}};

}  // namespace
}  // namespace lab::demos
