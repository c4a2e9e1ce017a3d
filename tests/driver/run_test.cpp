// The run layer: a program in the box, its events read back with the run's
// secret, its outcome said in words once; two boxes at once.
#include "run.hpp"
#include "fixture_programs.hpp"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

using lab_test::fixture;
using lab_test::spec_for;

TEST_CASE("the outcome of a run is described in words") {
  lab::run_result run;
  run.profile.timeout = 8s;
  run.profile.max_tasks = 40;
  run.outcome = lab::run_outcome::timed_out;
  run.timeout_evidence = "every thread was blocked";
  CHECK(run.stop_reason() == "timed out after 8 s: every thread was blocked");
  run.outcome = lab::run_outcome::signaled;
  run.term_signal = SIGSEGV;
  CHECK(run.stop_reason() == "crashed: SIGSEGV (segmentation fault)");
  run.task_limit_hit = true;
  CHECK(run.stop_reason().find("limit of 40 processes and threads") != std::string::npos);
  run.outcome = lab::run_outcome::exited;
  run.exit_code = 0;
  run.task_limit_hit = false;
  CHECK(run.stop_reason().empty());
  CHECK(run.succeeded());
  run.outcome = lab::run_outcome::failed_to_start;
  run.start_error = "cannot run x: No such file or directory";
  CHECK(run.stop_reason() ==
        "could not start the program: cannot run x: No such file or directory");
  run.outcome = lab::run_outcome::interrupted;
  CHECK(run.stop_reason() == "interrupted");
}

TEST_CASE("events signed with the run's secret are believed and others are counted as forged") {
  // protocol_peer sends one metric with the secret it was given and one
  // line with a made-up secret.
  const auto run = lab::run_in_box(spec_for("protocol_peer", {"sign"}));
  CHECK(run.succeeded());
  REQUIRE(run.events.size() == 1);
  const auto* metric = run.first<lab::protocol::metric>();
  REQUIRE(metric != nullptr);
  CHECK(metric->name == "answer");
  CHECK(metric->value == 42);
  CHECK(run.rejected.forged == 1);
}

TEST_CASE("the program cannot see the channel's descriptor or the secret in its environment") {
  const auto run = lab::run_in_box(spec_for("protocol_peer", {"environment"}));
  CHECK(run.succeeded());
  CHECK(run.out == "no descriptor, no secret\n");
}

TEST_CASE("the program gets a scratch folder of its own that is gone after the run") {
  const auto run = lab::run_in_box(spec_for("protocol_peer", {"scratch"}));
  CHECK(run.succeeded());
  const std::string folder = run.out.substr(0, run.out.find('\n'));
  REQUIRE_FALSE(folder.empty());
  CHECK(folder.find("lab-run-") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(folder));
}

TEST_CASE("the open-files limit comes from the profile") {
  auto spec = spec_for("protocol_peer", {"open_files"});
  spec.profile.open_files = 3000;
  const auto run = lab::run_in_box(spec);
  CHECK(run.succeeded());
  if (geteuid() == 0)
    CHECK(run.out == "3000\n");
  else
    CHECK(!run.out.empty());
}

TEST_CASE("an isolated box has its own loopback and cannot reach a server outside it") {
  // A server in a box on the machine's loopback, a client in an isolated
  // box: the client's connection must fail, yet its own loopback works.
  if (geteuid() != 0) {
    MESSAGE("not root: lab gives no network namespace here");
    const auto run = lab::run_in_box(spec_for("protocol_peer", {"scratch"}));
    CHECK_FALSE(run.notes.empty());
    return;
  }
  auto spec = spec_for("protocol_peer", {"own_loopback"});
  spec.profile.network = lab::network_access::isolated;
  const auto run = lab::run_in_box(spec);
  CHECK(run.succeeded());
  CHECK(run.out == "own loopback works; interfaces: lo\n");
  CHECK(run.notes.empty());
}

TEST_CASE("a server and its client in two boxes at once both finish and neither kills the other") {
  const auto folder =
      std::filesystem::temp_directory_path() / ("lab-two-boxes-" + std::to_string(getpid()));
  std::filesystem::create_directories(folder);
  const auto port_file = (folder / "port").string();
  for (int round = 0; round < 5; ++round) {
    std::filesystem::remove(port_file);
    auto server = spec_for("echo_once", {"serve", port_file});
    server.profile.network = lab::network_access::host;
    auto client = spec_for("echo_once", {"connect", port_file});
    client.profile.network = lab::network_access::host;
    lab::run_result served, asked;
    std::thread server_thread([&] { served = lab::run_in_box(server); });
    asked = lab::run_in_box(client);
    server_thread.join();
    INFO("round ", round, "; server: ", served.stop_reason(), served.err,
         "; client: ", asked.stop_reason(), asked.err);
    CHECK(asked.succeeded());
    CHECK(asked.out == "echoed: hello\n");
    CHECK(asked.leftovers_killed == 0);
    CHECK(served.succeeded());
    // The server left a helper process behind on purpose: its own box, and
    // only its own, counts it.
    CHECK(served.leftovers_killed == 1);
  }
  std::filesystem::remove_all(folder);
}

TEST_CASE("a blocked program times out with the evidence that every thread was blocked") {
  auto spec = spec_for("sleeper");
  spec.profile.timeout = 1s;
  const auto run = lab::run_in_box(spec);
  CHECK(run.outcome == lab::run_outcome::timed_out);
  CHECK(run.stop_reason().find("timed out after 1 s: every thread was blocked") == 0);
}
