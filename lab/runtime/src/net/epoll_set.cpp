#include "lab/net/epoll_set.hpp"

#include "lab/net/error.hpp"

namespace lab::net {

epoll_set::epoll_set(int max_events)
    : fd_(::epoll_create1(EPOLL_CLOEXEC)),
      ready_(static_cast<std::size_t>(max_events > 0 ? max_events : 1)) {
  if (!fd_) throw_errno("epoll_create1");
}

void epoll_set::add(int fd, std::uint32_t events) {
  epoll_event interest{};
  interest.events = events;
  interest.data.fd = fd;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &interest) != 0) throw_errno("epoll_ctl ADD");
}

void epoll_set::modify(int fd, std::uint32_t events) {
  epoll_event interest{};
  interest.events = events;
  interest.data.fd = fd;
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_MOD, fd, &interest) != 0) throw_errno("epoll_ctl MOD");
}

void epoll_set::remove(int fd) {
  if (::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0) throw_errno("epoll_ctl DEL");
}

std::span<const epoll_event> epoll_set::wait(std::chrono::milliseconds timeout) {
  const int limit =
      timeout < std::chrono::milliseconds::zero() ? -1 : static_cast<int>(timeout.count());
  const int ready = ::epoll_wait(fd_.get(), ready_.data(), static_cast<int>(ready_.size()), limit);
  if (ready >= 0) return {ready_.data(), static_cast<std::size_t>(ready)};
  if (errno == EINTR) return {};
  throw_errno("epoll_wait");
}

}  // namespace lab::net
