// lab load HOST:PORT --conns N --seconds S [--size B] [--mode echo|counting]:
// drive a server on this machine's loopback with a closed-loop load
// (lab/net/load_generator.hpp) and print round trips per second, latency
// percentiles and errors. It runs in lab's own process (a client, not
// student code); it refuses any address but the loopback, and its counts and
// time are bounded.
#include <fmt/core.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <ostream>
#include <system_error>

#include <lab/net/load_generator.hpp>

#include "app.hpp"

namespace lab {
namespace {

struct load_options {
  std::string target;  // HOST:PORT
  int connections = 10;
  double seconds = 2;
  int size = 64;
  std::string mode = "echo";
};

// The names of this machine's loopback that lab load accepts.
bool is_loopback_name(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost";
}

// The port of "127.0.0.1:PORT" (or "localhost:PORT"), or a one-line reason.
std::optional<std::uint16_t> loopback_port(const std::string& target, std::string& why) {
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    why = fmt::format("'{}' is not HOST:PORT; write e.g. 127.0.0.1:8000", target);
    return std::nullopt;
  }
  const std::string host = target.substr(0, colon);
  if (!is_loopback_name(host)) {
    why = fmt::format(
        "{} is not this machine's loopback: lab load only drives servers on 127.0.0.1 (start one "
        "with lab serve NAME)",
        host);
    return std::nullopt;
  }
  const std::string digits = target.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (error != std::errc() || end != digits.data() + digits.size() || port < 1 || port > 65535) {
    why = fmt::format("'{}' is not a port: a whole number from 1 to 65535", digits);
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(port);
}

void print_report(const net::load_report& report, const load_options& options, std::ostream& out) {
  out << fmt::format(
      "{} connections for {:.1f} s ({} threads, {}{}):\n", options.connections, report.seconds,
      report.threads, options.mode,
      options.mode == "echo" ? fmt::format(", {} bytes a request", options.size) : "");
  out << fmt::format("  round trips  {:>12}   {:.0f} per second\n", report.round_trips,
                     report.per_second());
  out << fmt::format("  latency      p50 {:.1f} us   p99 {:.1f} us   max {:.1f} us\n",
                     report.percentile_us(0.50), report.percentile_us(0.99), report.max_us());
  out << fmt::format("  errors       {:>12}{}\n", report.errors,
                     report.first_error.empty() ? "" : "   first: " + report.first_error);
}

int run_load_command(const load_options& options, app_context& context) {
  std::string why;
  const auto port = loopback_port(options.target, why);
  if (!port) {
    *context.err << "lab load: " << why << "\n";
    return exit_code::bad_usage;
  }
  net::load_plan plan;
  plan.port = *port;
  plan.connections = options.connections;
  plan.duration = std::chrono::milliseconds(static_cast<long>(options.seconds * 1000));
  plan.message_size = static_cast<std::size_t>(options.size);
  plan.mode = options.mode == "counting" ? net::load_mode::counting : net::load_mode::echo;
  const bool terminal = isatty(STDOUT_FILENO) != 0 && context.out == &std::cout;
  if (terminal)
    plan.on_progress = [&](const net::load_progress& p) {
      *context.out << fmt::format("\r{:.0f} s: {} round trips, {} errors   ", p.seconds,
                                  p.round_trips, p.errors)
                   << std::flush;
    };
  try {
    const net::load_report report = net::run_load(plan);
    if (terminal) *context.out << "\r" << std::string(60, ' ') << "\r";
    print_report(report, options, *context.out);
    if (report.round_trips == 0 && report.errors == 0) {
      *context.err << fmt::format(
          "lab load: no answer came back in {:g} s; does the server answer --mode {} requests? (an "
          "echo server waits for bytes; a counting server answers on connect)\n",
          options.seconds, options.mode);
      return exit_code::failed;
    }
    return report.errors == 0 ? exit_code::ok : exit_code::failed;
  } catch (const std::invalid_argument& error) {
    *context.err << "lab load: " << error.what() << "\n";
    return exit_code::bad_usage;
  } catch (const std::runtime_error& error) {
    *context.err << fmt::format("lab load: {}; is a server listening there? (lab serve NAME)\n",
                                error.what());
    return exit_code::failed;
  }
}

}  // namespace

void setup_load(CLI::App& app, app_context& context) {
  auto options = std::make_shared<load_options>();
  CLI::App* sub = app.add_subcommand(
      "load",
      "Drive a server on 127.0.0.1 with a closed-loop load, e.g. lab load 127.0.0.1:8000 --conns "
      "100 --seconds 2: round trips per second, p50/p99/max latency, errors");
  sub->add_option("target", options->target, "HOST:PORT, on this machine's loopback")->required();
  sub->add_option("--conns", options->connections, "Connections, each one request at a time")
      ->check(CLI::Range(1, net::max_load_connections));
  sub->add_option("--seconds", options->seconds, "How long to run")
      ->check(CLI::Range(0.1, net::max_load_seconds));
  sub->add_option("--size", options->size, "Bytes per echo request")
      ->check(CLI::Range(1, static_cast<int>(net::max_message_size)));
  sub->add_option("--mode", options->mode,
                  "echo: send and wait for the same bytes; counting: connect and read <N, took X "
                  "ms> each time")
      ->check(CLI::IsMember({"echo", "counting"}));
  context.runners[sub] = [options, &context] { return run_load_command(*options, context); };
}

}  // namespace lab
