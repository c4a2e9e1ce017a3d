#include "lab/net/epoll_set.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "lab/net/error.hpp"
#include "lab/net/socket.hpp"

TEST_CASE("epoll_set returns only the descriptors that became ready") {
  const auto listener = lab::net::listen_loopback();
  std::vector<lab::unique_fd> clients, servers;
  lab::net::epoll_set loop;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(lab::net::connect_loopback(listener.port));
    servers.push_back(lab::net::accept_client(listener.fd.get()));
    loop.add(servers.back().get(), EPOLLIN);
  }
  CHECK(loop.wait(std::chrono::milliseconds(0)).empty());
  REQUIRE(lab::net::send_all(clients[1].get(), "hi"));
  const auto ready = loop.wait(std::chrono::milliseconds(2000));
  REQUIRE(ready.size() == 1);
  CHECK(ready[0].data.fd == servers[1].get());
  CHECK((ready[0].events & EPOLLIN) != 0);
}

TEST_CASE("epoll_set modify switches a socket from reading to writing and remove forgets it") {
  const auto listener = lab::net::listen_loopback();
  const auto client = lab::net::connect_loopback(listener.port);
  const auto server = lab::net::accept_client(listener.fd.get());
  lab::net::epoll_set loop;
  loop.add(server.get(), EPOLLIN);
  CHECK(loop.wait(std::chrono::milliseconds(0)).empty());
  loop.modify(server.get(), EPOLLOUT);  // a reply waits: room to send is an event now
  const auto ready = loop.wait(std::chrono::milliseconds(2000));
  REQUIRE(ready.size() == 1);
  CHECK((ready[0].events & EPOLLOUT) != 0);
  loop.remove(server.get());
  CHECK(loop.wait(std::chrono::milliseconds(0)).empty());
  CHECK_THROWS_AS(loop.remove(server.get()), lab::net::error);  // not registered any more
}
