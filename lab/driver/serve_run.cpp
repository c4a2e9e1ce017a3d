#include "serve_run.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

#include "build_config.hpp"

namespace lab {

std::vector<demo_info> available_servers() {
  run_spec spec;
  spec.argv = {build_config::demos_program, "--servers"};
  spec.profile = profiles::query();
  const run_result run = run_in_box(spec);
  std::vector<demo_info> servers;
  for (const auto& event : run.events) {
    const auto* listed = std::get_if<protocol::demo_listed>(&event);
    if (listed == nullptr || listed->name.empty()) continue;
    demo_info server{listed->name, listed->summary, listed->params, profiles::server()};
    const auto limits = listed->limits.empty()
                            ? nlohmann::json()
                            : nlohmann::json::parse(listed->limits, nullptr, false);
    try {
      server.profile = apply_limits(profiles::server(), limits);
    } catch (const std::invalid_argument&) {
      // lab's own servers: tests/driver/serve_run_test.cpp sees their limits applied
    }
    servers.push_back(std::move(server));
  }
  return servers;
}

run_result run_server(const serve_request& request) {
  run_spec spec;
  spec.argv = {build_config::demos_program, "--serve", request.server->name,
               "port=" + std::to_string(request.port)};
  for (const auto& [key, value] : request.params) spec.argv.push_back(key + "=" + value);
  spec.profile = request.server->profile;
  spec.live_output = true;
  spec.cancel = request.stop;
  return run_in_box(spec);
}

}  // namespace lab
