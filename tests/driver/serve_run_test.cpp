// The servers lab serve can run are listed with their boxes.
#include "serve_run.hpp"

#include <doctest/doctest.h>

TEST_CASE("every lesson server is listed with its parameters and a box on the machine's loopback") {
  const auto servers = lab::available_servers();
  REQUIRE(servers.size() >= 10);
  for (const char* name : {"echo.blocking", "echo.select", "echo.poll", "echo.epoll",
                           "echo.thread_per_client", "echo.process_per_client", "counting.naive",
                           "counting.threaded", "counting.locked", "counting.event_loop"}) {
    INFO(name);
    const auto* server = lab::find_demo(servers, name);
    REQUIRE(server != nullptr);
    CHECK(server->params_help.find("port=0..65535, default 0") != std::string::npos);
    CHECK(server->profile.network == lab::network_access::host);
    // A server runs until the student stops it: longer than a demo may.
    CHECK(server->profile.timeout > lab::profiles::demo().timeout);
  }
  // Its own limits were applied (not lab's defaults): select is tested above 1024 descriptors.
  CHECK(lab::find_demo(servers, "echo.select")->profile.open_files == 4096);
}
