// The patched blocking calls: in a greenlet with patching on they let the
// other greenlets run; anywhere else they are the C library's. Verdicts
// come from the order of events, not from how long anything took.
#include "lab/green_patch.hpp"

#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "lab/green.hpp"
#include "lab/net/socket.hpp"
#include "lab/unique_fd.hpp"

namespace green = lab::green;

namespace {

// Patching on for one test, off again after it.
struct patching_on {
  patching_on() { green::patch_all(); }
  ~patching_on() { green::unpatch_all(); }
  patching_on(const patching_on&) = delete;
  patching_on& operator=(const patching_on&) = delete;
};

std::vector<std::string> sleeper_beside_a_counter() {
  std::vector<std::string> log;
  auto sleeper = green::spawn([&log] {
    log.push_back("sleeper calls usleep");
    ::usleep(20'000);
    log.push_back("sleeper wakes");
  });
  auto counter = green::spawn([&log] {
    for (int i = 1; i <= 3; ++i) {
      log.push_back("counter " + std::to_string(i));
      green::yield();
    }
  });
  green::run();
  return log;
}

}  // namespace

TEST_CASE("a patched usleep in a greenlet lets the other greenlets run meanwhile") {
  const patching_on patched;
  CHECK(sleeper_beside_a_counter() == std::vector<std::string>{"sleeper calls usleep", "counter 1",
                                                                 "counter 2", "counter 3", "sleeper wakes"});
}

TEST_CASE("an unpatched usleep in a greenlet stops every greenlet until it returns") {
  REQUIRE_FALSE(green::patched());
  CHECK(sleeper_beside_a_counter() == std::vector<std::string>{"sleeper calls usleep", "sleeper wakes",
                                                                 "counter 1", "counter 2", "counter 3"});
}

TEST_CASE("a patched recv waits for its data as a greenlet while another one sends it") {
  const patching_on patched;
  int ends[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
  const lab::unique_fd reader(ends[0]), writer(ends[1]);
  std::vector<std::string> log;
  auto receiving = green::spawn([&] {
    char buffer[16];
    log.push_back("receiver calls recv");
    const ssize_t got = ::recv(reader.get(), buffer, sizeof buffer, 0);  // blocking, as written
    log.push_back("receiver got data");
    return std::string(buffer, static_cast<std::size_t>(got > 0 ? got : 0));
  });
  auto sending = green::spawn([&] {
    log.push_back("sender sends");
    CHECK(::send(writer.get(), "hello", 5, 0) == 5);
  });
  CHECK(receiving.get() == "hello");
  sending.join();
  CHECK(log == std::vector<std::string>{"receiver calls recv", "sender sends", "receiver got data"});
}

TEST_CASE("patched accept and connect let a server and a client greenlet meet on loopback") {
  const patching_on patched;
  lab::net::listener server = lab::net::listen_loopback();
  const std::uint16_t port = server.port;
  auto serving = green::spawn([&server] {
    const int client = ::accept(server.fd.get(), nullptr, nullptr);  // waits as a greenlet
    const lab::unique_fd owned(client);
    char buffer[8];
    const ssize_t got = ::read(client, buffer, sizeof buffer);
    return std::string(buffer, static_cast<std::size_t>(got > 0 ? got : 0));
  });
  auto connecting = green::spawn([port] {
    const lab::unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    CHECK(::write(fd.get(), "ping", 4) == 4);
  });
  CHECK(serving.get() == "ping");
  connecting.join();
}

TEST_CASE("a patched poll waits for either of two sockets as a greenlet and says which is ready") {
  const patching_on patched;
  int first[2], second[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, first) == 0);
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, second) == 0);
  const lab::unique_fd first_reader(first[0]), first_writer(first[1]);
  const lab::unique_fd second_reader(second[0]), second_writer(second[1]);
  std::vector<std::string> log;
  auto polling = green::spawn([&] {
    pollfd watched[2] = {{first_reader.get(), POLLIN, 0}, {second_reader.get(), POLLIN, 0}};
    log.push_back("poller calls poll");
    const int ready = ::poll(watched, 2, -1);  // blocking, as written
    log.push_back("poller sees " + std::to_string(ready) + " ready");
    return (watched[0].revents & POLLIN) == 0 && (watched[1].revents & POLLIN) != 0;
  });
  auto sending = green::spawn([&] {
    log.push_back("sender writes to the second");
    CHECK(::send(second_writer.get(), "x", 1, 0) == 1);
  });
  CHECK(polling.get());
  sending.join();
  CHECK(log == std::vector<std::string>{"poller calls poll", "sender writes to the second",
                                        "poller sees 1 ready"});
}

TEST_CASE("a patched poll with a timeout returns 0 after it and lets the others run meanwhile") {
  const patching_on patched;
  int ends[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0);
  const lab::unique_fd reader(ends[0]), writer(ends[1]);
  std::vector<std::string> log;
  auto polling = green::spawn([&] {
    pollfd watched{reader.get(), POLLIN, 0};
    log.push_back("poller calls poll");
    const int ready = ::poll(&watched, 1, 30);  // nobody writes: the timeout ends it
    log.push_back("poller sees " + std::to_string(ready) + " ready");
  });
  auto counter = green::spawn([&log] {
    for (int i = 1; i <= 2; ++i) {
      log.push_back("counter " + std::to_string(i));
      green::yield();
    }
  });
  green::run();
  CHECK(log == std::vector<std::string>{"poller calls poll", "counter 1", "counter 2",
                                        "poller sees 0 ready"});
}

TEST_CASE("blocking calls outside greenlets and on regular files stay the C library's") {
  const patching_on patched;
  CHECK(::usleep(1000) == 0);  // main: a real sleep
  char path[] = "/tmp/lab-green-patch-XXXXXX";
  const lab::unique_fd file(::mkstemp(path));
  REQUIRE(file);
  ::unlink(path);
  REQUIRE(::write(file.get(), "data", 4) == 4);
  REQUIRE(::lseek(file.get(), 0, SEEK_SET) == 0);
  auto reading = green::spawn([&file] {
    char buffer[8];
    const ssize_t got = ::read(file.get(), buffer, sizeof buffer);  // epoll refuses files: read directly
    return std::string(buffer, static_cast<std::size_t>(got > 0 ? got : 0));
  });
  CHECK(reading.get() == "data");
}
