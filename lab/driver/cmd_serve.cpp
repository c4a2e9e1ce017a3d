// lab serve NAME [--port P] [key=value ...]: one demo server in the
// foreground, in the box, for the student's own clients (nc, Python's
// socket, lab load). Enter or Ctrl-C stops it: the box is killed and with it
// every process of the server and its port. lab serve --list: the servers.
#include <fmt/core.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ostream>
#include <thread>

#include "app.hpp"
#include "serve_run.hpp"
#include "suggest.hpp"

namespace lab {
namespace {

struct serve_options {
  std::string name;
  int port = 0;
  std::vector<std::string> params;
  bool list = false;
};

// Watches for the two ways to stop a server while it runs: a line typed on
// standard input (Enter: the lecture's "stdin quits") and Ctrl-C (the
// app's interrupt flag). Either sets `stop`. The end of standard input
// (nothing to read, ever: a pipe closed, /dev/null) is not a request to
// stop; the server then runs until Ctrl-C.
class stop_watcher {
 public:
  stop_watcher(const std::atomic<bool>* ctrl_c, std::atomic<bool>& stop)
      : thread_([this, ctrl_c, &stop] { watch(ctrl_c, stop); }) {}
  ~stop_watcher() {
    done_.store(true);
    thread_.join();
  }

 private:
  void watch(const std::atomic<bool>* ctrl_c, std::atomic<bool>& stop) {
    bool reading = true;
    while (!done_.load()) {
      if (ctrl_c != nullptr && ctrl_c->load()) stop.store(true);
      pollfd input{STDIN_FILENO, POLLIN, 0};
      const int ready = ::poll(&input, reading ? 1 : 0, 100);  // 100 ms: notice done_ and Ctrl-C
      if (ready <= 0) continue;
      char buffer[256];
      const ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (got <= 0) {
        reading = false;
        continue;
      }
      if (std::find(buffer, buffer + got, '\n') != buffer + got) stop.store(true);
    }
  }

  std::atomic<bool> done_{false};
  std::thread thread_;  // last: it starts once the rest is ready
};

int list_servers(app_context& context) {
  const auto servers = available_servers();
  std::size_t width = 0;
  for (const auto& server : servers) width = std::max(width, server.name.size());
  for (const auto& server : servers) {
    *context.out << fmt::format("{:<{}}  {}\n", server.name, width, server.summary);
    *context.out << fmt::format("{:<{}}  {}\n", "", width, server.params_help);
  }
  return exit_code::ok;
}

int run_serve(const serve_options& options, app_context& context) {
  if (options.list || options.name.empty()) return list_servers(context);
  const auto servers = available_servers();
  const demo_info* server = find_demo(servers, options.name);
  if (server == nullptr) {
    std::vector<std::string> names;
    for (const auto& s : servers) names.push_back(s.name);
    *context.err << fmt::format(
        "lab serve: no server named '{}'.{} (lab serve --list shows them)\n", options.name,
        did_you_mean(options.name, names));
    return exit_code::bad_usage;
  }
  serve_request request;
  request.server = server;
  request.port = static_cast<std::uint16_t>(options.port);
  try {
    request.params = parse_params(options.params);
  } catch (const std::invalid_argument& error) {
    *context.err << fmt::format("lab serve: {}; parameters are key=value, e.g. chunk=16\n",
                                error.what());
    return exit_code::bad_usage;
  }
  for (const auto& [key, value] : request.params)
    if (key == "port") {
      *context.err << "lab serve: give the port as --port P, not port=P\n";
      return exit_code::bad_usage;
    }
  *context.out << "Stop it with Enter or Ctrl-C.\n";
  context.out->flush();
  std::atomic<bool> stop{false};
  run_result run;
  {
    stop_watcher watcher(context.cancel, stop);
    request.stop = &stop;
    run = run_server(request);
  }
  for (const auto& note : run.notes) *context.out << "(note: " << note << ")\n";
  switch (run.outcome) {
    case run_outcome::interrupted:
      *context.out << fmt::format("{} stopped: its processes and its port are gone.\n",
                                  server->name);
      return exit_code::ok;
    case run_outcome::exited:
      // lab-demos exits 2 for a parameter it cannot take (it said which).
      return run.exit_code == 0   ? exit_code::ok
             : run.exit_code == 2 ? exit_code::bad_usage
                                  : exit_code::failed;
    case run_outcome::failed_to_start:
      *context.err << fmt::format(
          "lab serve: cannot start the demos program: {}; run bin/lab to "
          "rebuild\n",
          run.start_error);
      return exit_code::lab_error;
    case run_outcome::timed_out:
      // An idle server is "blocked" to the box's clock: this is lab serve's
      // own limit, not a deadlock of the server.
      *context.out << fmt::format(
          "{} stopped after {} s, lab serve's limit for one server; start it again to go on.\n",
          server->name,
          std::chrono::duration_cast<std::chrono::seconds>(run.profile.timeout).count());
      return exit_code::ok;
    default:
      *context.out << fmt::format("{} stopped: {}\n", server->name, run.stop_reason());
      return exit_code::failed;
  }
}

}  // namespace

void setup_serve(CLI::App& app, app_context& context) {
  auto options = std::make_shared<serve_options>();
  CLI::App* sub = app.add_subcommand(
      "serve",
      "Run a lesson's server in the foreground for your own clients, e.g. lab serve echo.select "
      "(then nc 127.0.0.1 PORT); Enter or Ctrl-C stops it");
  sub->add_option("name", options->name, "The server (--list shows them)");
  sub->add_option("params", options->params, "Its parameters as key=value, e.g. chunk=16");
  sub->add_option("--port", options->port, "The port on 127.0.0.1 (default: one the OS picks)")
      ->check(CLI::Range(0, 65535));
  sub->add_flag("--list", options->list, "List the servers");
  context.runners[sub] = [options, &context] { return run_serve(*options, context); };
}

}  // namespace lab
