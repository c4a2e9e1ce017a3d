#include "lab/net/poll_set.hpp"

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lab/net/socket.hpp"

TEST_CASE("poll_set reports data and then the peer hanging up") {
  const auto listener = lab::net::listen_loopback();
  auto client = lab::net::connect_loopback(listener.port);
  const auto server = lab::net::accept_client(listener.fd.get());
  lab::net::poll_set watched;
  watched.add(server.get(), POLLIN);
  CHECK(watched.wait(std::chrono::milliseconds(0)) == 0);
  REQUIRE(lab::net::send_all(client.get(), "hi"));
  client.reset();
  CHECK(watched.wait(std::chrono::milliseconds(2000)) == 1);
  CHECK((watched.entries()[0].revents & POLLIN) != 0);
  char buffer[8];
  CHECK(lab::net::recv_some(server.get(), buffer).bytes == 2);
  CHECK(lab::net::recv_some(server.get(), buffer).status == lab::net::io_status::closed);
}

TEST_CASE("poll_set watches a descriptor numbered beyond FD_SETSIZE") {
  rlimit files{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &files) == 0);
  const rlimit before = files;
  const rlim_t wanted = FD_SETSIZE + 16;
  if (files.rlim_max != RLIM_INFINITY && files.rlim_max < wanted) {
    MESSAGE("the hard open-files limit is below ", wanted, ": nothing to show here");
    return;
  }
  files.rlim_cur = std::max<rlim_t>(files.rlim_cur, wanted);
  REQUIRE(setrlimit(RLIMIT_NOFILE, &files) == 0);
  const auto listener = lab::net::listen_loopback();
  const auto client = lab::net::connect_loopback(listener.port);
  const auto server = lab::net::accept_client(listener.fd.get());
  const lab::unique_fd high(dup2(server.get(), FD_SETSIZE + 8));
  REQUIRE(high.get() == FD_SETSIZE + 8);
  REQUIRE(lab::net::send_all(client.get(), "x"));
  lab::net::poll_set watched;
  watched.add(high.get(), POLLIN);
  CHECK(watched.wait(std::chrono::milliseconds(2000)) == 1);
  CHECK((watched.entries()[0].revents & POLLIN) != 0);
  setrlimit(RLIMIT_NOFILE, &before);
}
