#include "lab/net/socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <string>

#include "lab/net/error.hpp"

namespace lab::net {
namespace {

std::string loopback_text(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

sockaddr_in loopback_address(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

unique_fd new_tcp_socket() {
  unique_fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket");
  return fd;
}

// Waits until `fd` has room to send (POLLOUT) or data to read (POLLIN), or
// an error. A signal only makes it look again.
void wait_until(int fd, short events) {
  pollfd entry{fd, events, 0};
  while (::poll(&entry, 1, -1) < 0)
    if (errno != EINTR) throw_errno("poll");
}

}  // namespace

listener listen_loopback(std::uint16_t port, int backlog) {
  listener result{new_tcp_socket(), 0};
  const int yes = 1;
  if (::setsockopt(result.fd.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0)
    throw_errno("setsockopt SO_REUSEADDR");
  const sockaddr_in address = loopback_address(port);
  if (::bind(result.fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw_errno("bind " + loopback_text(port));
  if (::listen(result.fd.get(), backlog) != 0) throw_errno("listen on " + loopback_text(port));
  result.port = local_port(result.fd.get());
  return result;
}

unique_fd accept_client(int listener_fd, bool nonblocking) {
  const int flags = SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
  for (;;) {
    const int fd = ::accept4(listener_fd, nullptr, nullptr, flags);
    if (fd >= 0) return unique_fd(fd);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED) return unique_fd();
    throw_errno("accept");
  }
}

unique_fd connect_loopback(std::uint16_t port) {
  unique_fd fd = new_tcp_socket();
  const sockaddr_in address = loopback_address(port);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0)
    return fd;
  // Interrupted by a signal, the connection goes on being made in the
  // background: wait for it, then ask how it went.
  if (errno != EINTR) throw_errno("connect to " + loopback_text(port));
  wait_until(fd.get(), POLLOUT);
  int failure = 0;
  socklen_t size = sizeof failure;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &failure, &size) != 0)
    throw_errno("getsockopt SO_ERROR");
  if (failure != 0) throw error(failure, "connect to " + loopback_text(port));
  return fd;
}

std::uint16_t local_port(int fd) {
  sockaddr_in address{};
  socklen_t size = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    throw_errno("getsockname");
  return ntohs(address.sin_port);
}

void set_nonblocking(int fd, bool nonblocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) throw_errno("fcntl F_GETFL");
  const int wanted = nonblocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (::fcntl(fd, F_SETFL, wanted) != 0) throw_errno("fcntl F_SETFL");
}

void set_no_delay(int fd) {
  const int yes = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes) != 0)
    throw_errno("setsockopt TCP_NODELAY");
}

io_result send_some(int fd, std::span<const char> data) {
  for (;;) {
    // MSG_NOSIGNAL: a peer that is gone is EPIPE here, not SIGPIPE killing us.
    const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) return {static_cast<std::size_t>(sent), io_status::ok};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, io_status::would_block};
    if (errno == EPIPE) return {0, io_status::closed};
    if (errno == ECONNRESET) return {0, io_status::reset};
    throw_errno("send");
  }
}

io_result recv_some(int fd, std::span<char> buffer) {
  for (;;) {
    const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (got > 0) return {static_cast<std::size_t>(got), io_status::ok};
    if (got == 0) return {0, io_status::closed};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, io_status::would_block};
    if (errno == ECONNRESET) return {0, io_status::reset};
    throw_errno("recv");
  }
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const io_result sent = send_some(fd, data);
    if (sent.status == io_status::would_block) {
      wait_until(fd, POLLOUT);
      continue;
    }
    if (sent.status != io_status::ok) return false;
    data.remove_prefix(sent.bytes);  // a partial write: the rest goes next time round
  }
  return true;
}

std::size_t recv_exact(int fd, std::span<char> buffer) {
  std::size_t filled = 0;
  while (filled < buffer.size()) {
    const io_result got = recv_some(fd, buffer.subspan(filled));
    if (got.status == io_status::would_block) {
      wait_until(fd, POLLIN);
      continue;
    }
    if (got.status != io_status::ok) break;
    filled += got.bytes;
  }
  return filled;
}

void shutdown_write(int fd) {
  // ENOTCONN: the peer already reset the connection; nothing left to close.
  if (::shutdown(fd, SHUT_WR) != 0 && errno != ENOTCONN) throw_errno("shutdown");
}

}  // namespace lab::net
