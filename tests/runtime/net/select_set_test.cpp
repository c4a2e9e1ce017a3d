#include "lab/net/select_set.hpp"

#include <doctest/doctest.h>

#include <string>

#include "lab/net/socket.hpp"

TEST_CASE("select_set refuses a descriptor at FD_SETSIZE and says to use poll or epoll") {
  lab::net::select_set sets;
  CHECK_THROWS_WITH_AS(
      sets.watch_read(FD_SETSIZE),
      ("descriptor " + std::to_string(FD_SETSIZE) +
       " is beyond select()'s limit: an fd_set holds descriptors 0 to " +
       std::to_string(FD_SETSIZE - 1) + " (FD_SETSIZE); use poll or epoll for more")
          .c_str(),
      lab::net::select_limit);
  CHECK_THROWS_AS(sets.watch_write(FD_SETSIZE + 500), lab::net::select_limit);
  CHECK_NOTHROW(sets.watch_read(FD_SETSIZE - 1));  // the last one that fits
  CHECK_FALSE(sets.readable(FD_SETSIZE));
}

TEST_CASE("select_set sees a socket readable only once data has arrived") {
  const auto listener = lab::net::listen_loopback();
  const auto client = lab::net::connect_loopback(listener.port);
  const auto server = lab::net::accept_client(listener.fd.get());
  {
    lab::net::select_set sets;
    sets.watch_read(server.get());
    sets.watch_write(client.get());
    CHECK(sets.wait(std::chrono::milliseconds(0)) == 1);  // only the client's room to send
    CHECK_FALSE(sets.readable(server.get()));
    CHECK(sets.writable(client.get()));
  }
  REQUIRE(lab::net::send_all(client.get(), "hi"));
  lab::net::select_set sets;
  sets.watch_read(server.get());
  CHECK(sets.wait(std::chrono::milliseconds(2000)) == 1);
  CHECK(sets.readable(server.get()));
}

TEST_CASE("select_set sees a listener readable when a client is waiting to be accepted") {
  const auto listener = lab::net::listen_loopback();
  lab::net::select_set idle;
  idle.watch_read(listener.fd.get());
  CHECK(idle.wait(std::chrono::milliseconds(10)) == 0);  // the timeout, nobody there
  const auto client = lab::net::connect_loopback(listener.port);
  lab::net::select_set sets;
  sets.watch_read(listener.fd.get());
  CHECK(sets.wait(std::chrono::milliseconds(2000)) == 1);
  CHECK(sets.readable(listener.fd.get()));
}
