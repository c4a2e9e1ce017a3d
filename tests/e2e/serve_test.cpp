// End-to-end: lab serve runs each lesson server in its box for real clients
// on the loopback, and stops on Enter or Ctrl-C leaving no port and no
// process; lab load drives a served server. Every exchange is small, and
// every wait has a deadline.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>

#include "lab_process.hpp"
#include "serving_lab.hpp"

using lab_test::run_lab;
using lab_test::serving_lab;

namespace {

using namespace std::chrono_literals;

// Whether a listener can take `port` again: nothing holds it any more.
bool port_is_free(std::uint16_t port) {
  try {
    lab::net::listen_loopback(port);
    return true;
  } catch (const lab::net::error&) {
    return false;
  }
}

// What an nc user would see after typing `line` (its echo).
std::string echo_of(std::uint16_t port, const std::string& line) {
  const auto client = lab::net::connect_loopback(port);
  REQUIRE(lab::net::send_all(client.get(), line));
  std::string answer(line.size(), '\0');
  answer.resize(lab::net::recv_exact(client.get(), answer));
  return answer;
}

// What a counting server tells a client that connects (to the end of the stream).
std::string count_of(std::uint16_t port) {
  const auto client = lab::net::connect_loopback(port);
  char buffer[128];
  return std::string(buffer, lab::net::recv_exact(client.get(), buffer));
}

}  // namespace

TEST_CASE("lab serve runs every echo server until Enter and each echoes a client byte for byte") {
  for (const char* name : {"echo.blocking", "echo.select", "echo.poll", "echo.epoll",
                           "echo.thread_per_client", "echo.process_per_client", "echo.coroutine",
                           "echo.green"}) {
    INFO(name);
    serving_lab lab({name});
    const std::uint16_t port = lab.port();
    INFO(lab.output);
    REQUIRE(port != 0);
    CHECK(lab.output.find("nc 127.0.0.1 " + std::to_string(port)) != std::string::npos);
    CHECK(echo_of(port, "hello, server\n") == "hello, server\n");
    CHECK(echo_of(port, std::string(5000, 'z')) == std::string(5000, 'z'));  // many 16-byte reads
    lab.press_enter();
    CHECK(lab.wait() == 0);
    CHECK(lab.output.find(std::string(name) + " stopped") != std::string::npos);
    CHECK(port_is_free(port));
  }
}

// `kill`, `timeout` or a closed terminal: lab stops its box as for Ctrl-C,
// then ends by the signal. Once, such a lab died at once and left its
// server running, holding the port, with nobody to stop it.
TEST_CASE("lab serve ended by SIGTERM stops its server first and leaves no process or port") {
  serving_lab lab({"echo.process_per_client"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  CHECK(echo_of(port, "x") == "x");
  CHECK_FALSE(port_is_free(port));
  lab.terminate();
  const int code = lab.wait();
  INFO(lab.output);
  CHECK(code == 128 + SIGTERM);
  CHECK(port_is_free(port));
  CHECK(lab_test::processes_left_behind("lab-demos", getpid()).empty());
}

TEST_CASE("lab serve stopped with Ctrl-C leaves its port free to bind again") {
  serving_lab lab({"echo.process_per_client"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  const auto idle = lab::net::connect_loopback(port);  // a client (and its process) at the stop
  CHECK(echo_of(port, "x") == "x");
  CHECK_FALSE(port_is_free(port));  // the check can fail: the server holds it now
  lab.interrupt();
  const int code = lab.wait();
  INFO(lab.output);
  CHECK(code == 130);
  CHECK(port_is_free(port));  // the server's process is gone: nothing listens
  // The idle client's connection lived only in its own process of the
  // server: it reads the end of the stream (or a reset) once that is gone too.
  pollfd entry{idle.get(), POLLIN, 0};
  REQUIRE(poll(&entry, 1, 5000) == 1);
  char byte;
  CHECK(lab::net::recv_some(idle.get(), {&byte, 1}).status != lab::net::io_status::ok);
}

TEST_CASE("lab serve runs the counting servers and each client gets a number") {
  for (const char* name :
       {"counting.naive", "counting.threaded", "counting.locked", "counting.event_loop",
        "counting.green", "counting.green_wait"}) {
    INFO(name);
    serving_lab lab({name, "work_ms=1"});
    const std::uint16_t port = lab.port();
    INFO(lab.output);
    REQUIRE(port != 0);
    CHECK(std::regex_match(count_of(port), std::regex(R"(<1, took [0-9.]+ ms>\n)")));
    CHECK(std::regex_match(count_of(port), std::regex(R"(<2, took [0-9.]+ ms>\n)")));
    lab.press_enter();
    CHECK(lab.wait() == 0);
  }
}

TEST_CASE("lab serve takes the port it is given and refuses one that is taken") {
  const auto taken = lab::net::listen_loopback();
  serving_lab lab({"echo.epoll", "--port", std::to_string(taken.port)});
  CHECK(lab.wait() == 1);
  CHECK(lab.output.find("bind 127.0.0.1:" + std::to_string(taken.port) +
                        ": Address already in use") != std::string::npos);
}

TEST_CASE("lab serve lists the servers with their parameters and refuses an unknown one") {
  const auto list = run_lab({"serve", "--list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("echo.select") != std::string::npos);
  CHECK(list.out.find("counting.threaded") != std::string::npos);
  CHECK(list.out.find("chunk=1..65536, default 16") != std::string::npos);
  const auto unknown = run_lab({"serve", "echo.selekt"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("no server named 'echo.selekt'") != std::string::npos);
  CHECK(unknown.err.find("echo.select") != std::string::npos);
  const auto out_of_range = run_lab({"serve", "echo.select", "chunk=0"});
  CHECK(out_of_range.exit_code == 2);
  CHECK(out_of_range.err.find("chunk=0 is out of range") != std::string::npos);
}

TEST_CASE("lab load refuses an address that is not the loopback") {
  const auto run = run_lab({"load", "10.0.0.1:80", "--conns", "1", "--seconds", "1"});
  CHECK(run.exit_code == 2);
  CHECK(run.err ==
        "lab load: 10.0.0.1 is not this machine's loopback: lab load only drives servers on "
        "127.0.0.1 (start one with lab serve NAME)\n");
  CHECK(run_lab({"load", "127.0.0.1:99999"}).exit_code == 2);
  CHECK(run_lab({"load", "127.0.0.1:80", "--conns", "100000"}).exit_code == 2);
}

TEST_CASE("lab load drives a served echo server and a counting server and counts round trips") {
  {
    serving_lab lab({"echo.epoll"});
    const std::uint16_t port = lab.port();
    REQUIRE(port != 0);
    const auto run = run_lab({"load", "127.0.0.1:" + std::to_string(port), "--conns", "8",
                              "--seconds", "0.5", "--size", "100"});
    INFO(run.out, run.err);
    CHECK(run.exit_code == 0);
    std::smatch match;
    REQUIRE(std::regex_search(run.out, match, std::regex(R"(round trips +(\d+))")));
    CHECK(std::stol(match[1]) > 0);
    CHECK(std::regex_search(run.out, std::regex(R"(errors +0\n)")));
    CHECK(run.out.find("p99") != std::string::npos);
    lab.press_enter();
    CHECK(lab.wait() == 0);
  }
  serving_lab counting({"counting.threaded", "work_ms=0"});
  const std::uint16_t port = counting.port();
  REQUIRE(port != 0);
  const auto run = run_lab({"load", "localhost:" + std::to_string(port), "--conns", "4",
                            "--seconds", "0.3", "--mode", "counting"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  CHECK(std::regex_search(run.out, std::regex(R"(errors +0\n)")));
  counting.press_enter();
  CHECK(counting.wait() == 0);
}

TEST_CASE("lab load in counting mode against an echo server says that no answer came back") {
  serving_lab lab({"echo.epoll"});
  const std::uint16_t port = lab.port();
  REQUIRE(port != 0);
  const auto run = run_lab({"load", "127.0.0.1:" + std::to_string(port), "--conns", "2",
                            "--seconds", "0.2", "--mode", "counting"});
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("lab load: no answer came back in 0.2 s") != std::string::npos);
  lab.press_enter();
  CHECK(lab.wait() == 0);
}

TEST_CASE("lab load at a port where nobody listens says so in one line") {
  const std::uint16_t port = lab::net::listen_loopback().port;  // closed again at once
  const auto run = run_lab({"load", "127.0.0.1:" + std::to_string(port), "--seconds", "0.2"});
  CHECK(run.exit_code == 1);
  CHECK(run.err == "lab load: connect to 127.0.0.1:" + std::to_string(port) +
                       ": Connection refused; is a server listening there? (lab serve NAME)\n");
}
