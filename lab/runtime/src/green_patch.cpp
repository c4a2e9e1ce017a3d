// The cooperative blocking calls of lab/green_patch.hpp. Each finds the C
// library's own version with dlsym(RTLD_NEXT, ...) (the next definition
// after this executable's: libc's, or a sanitizer's wrapper around it).
#include "lab/green_patch.hpp"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <system_error>
#include <vector>

#include "lab/green.hpp"

namespace lab::green {

namespace {

std::atomic<bool> patching{false};

// True when this call should cooperate: patching is on and a greenlet runs here.
bool cooperate() { return patching.load(std::memory_order_relaxed) && detail::in_greenlet(); }

template <typename Function>
Function real(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_NEXT, name));
}

bool is_socket(int fd) {
  struct stat info {};
  return fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode);
}

// Waits until fd is ready. False when the hub cannot watch it (epoll
// refuses regular files, which never block anyway): then just call.
bool wait_ready(int fd, bool write) {
  try {
    if (write)
      wait_writable(fd);
    else
      wait_readable(fd);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// What a poll() of `fds` waits for, as the hub's waits: each descriptor
// once per direction (a poll array may name one twice).
std::vector<fd_wait> waits_of(const pollfd* fds, nfds_t count) {
  std::vector<fd_wait> waits;
  auto add = [&waits](int fd, bool write) {
    const bool known = std::any_of(waits.begin(), waits.end(),
                                   [&](const fd_wait& w) { return w.fd == fd && w.write == write; });
    if (!known) waits.push_back({fd, write});
  };
  for (nfds_t i = 0; i < count; ++i) {
    if (fds[i].fd < 0) continue;  // poll() skips negative descriptors too
    if ((fds[i].events & (POLLIN | POLLPRI)) != 0) add(fds[i].fd, false);
    if ((fds[i].events & POLLOUT) != 0) add(fds[i].fd, true);
  }
  return waits;
}

}  // namespace

void patch_all() { patching = true; }
void unpatch_all() { patching = false; }
bool patched() { return patching; }

}  // namespace lab::green

extern "C" {

int nanosleep(const struct timespec* request, struct timespec* remaining) {
  if (!lab::green::cooperate() || request == nullptr)
    return lab::green::real<int (*)(const timespec*, timespec*)>("nanosleep")(request, remaining);
  lab::green::sleep(std::chrono::seconds(request->tv_sec) + std::chrono::nanoseconds(request->tv_nsec));
  if (remaining != nullptr) *remaining = {};
  return 0;
}

unsigned int sleep(unsigned int seconds) {
  if (!lab::green::cooperate()) return lab::green::real<unsigned (*)(unsigned)>("sleep")(seconds);
  lab::green::sleep(std::chrono::seconds(seconds));
  return 0;
}

int usleep(useconds_t microseconds) {
  if (!lab::green::cooperate()) return lab::green::real<int (*)(useconds_t)>("usleep")(microseconds);
  lab::green::sleep(std::chrono::microseconds(microseconds));
  return 0;
}

ssize_t read(int fd, void* buffer, size_t size) {
  static const auto c_read = lab::green::real<ssize_t (*)(int, void*, size_t)>("read");
  if (lab::green::cooperate()) lab::green::wait_ready(fd, false);  // data, an end or an error: read won't block
  return c_read(fd, buffer, size);
}

ssize_t recv(int fd, void* buffer, size_t size, int flags) {
  static const auto c_recv = lab::green::real<ssize_t (*)(int, void*, size_t, int)>("recv");
  if (lab::green::cooperate() && (flags & MSG_DONTWAIT) == 0) lab::green::wait_ready(fd, false);
  return c_recv(fd, buffer, size, flags);
}

ssize_t send(int fd, const void* data, size_t size, int flags) {
  static const auto c_send = lab::green::real<ssize_t (*)(int, const void*, size_t, int)>("send");
  if (!lab::green::cooperate() || (flags & MSG_DONTWAIT) != 0) return c_send(fd, data, size, flags);
  // Send what fits now; wait for room only when nothing fits. Like the C
  // library's send on a blocking socket it may send less than asked.
  for (;;) {
    const ssize_t sent = c_send(fd, data, size, flags | MSG_DONTWAIT);
    if (sent >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return sent;
    if (!lab::green::wait_ready(fd, true)) return c_send(fd, data, size, flags);
  }
}

ssize_t write(int fd, const void* data, size_t size) {
  static const auto c_write = lab::green::real<ssize_t (*)(int, const void*, size_t)>("write");
  if (lab::green::cooperate() && lab::green::is_socket(fd)) return send(fd, data, size, 0);
  return c_write(fd, data, size);
}

// poll() inside a greenlet: asks the C library without waiting; if nothing
// is ready, waits through the hub for any of the descriptors (or the
// timeout), then asks again. A wake-up that finds nothing ready after all
// waits again for what is left of the timeout.
int poll(struct pollfd* fds, nfds_t count, int timeout_ms) {
  static const auto c_poll = lab::green::real<int (*)(pollfd*, nfds_t, int)>("poll");
  if (!lab::green::cooperate() || timeout_ms == 0) return c_poll(fds, count, timeout_ms);
  using clock = std::chrono::steady_clock;
  const std::optional<clock::time_point> deadline =
      timeout_ms < 0 ? std::nullopt
                     : std::optional(clock::now() + std::chrono::milliseconds(timeout_ms));
  const std::vector<lab::green::fd_wait> waits = lab::green::waits_of(fds, count);
  for (;;) {
    const int ready = c_poll(fds, count, 0);
    if (ready != 0) return ready;  // something is ready, or an error
    std::optional<lab::green::duration> left;
    if (deadline) {
      const auto now = clock::now();
      if (now >= *deadline) return 0;
      left = *deadline - now;
    }
    try {
      lab::green::wait_any(waits, left);
    } catch (const std::system_error&) {
      // A descriptor the hub cannot watch (a regular file): the C library's wait.
      return c_poll(fds, count, timeout_ms);
    }
  }
}

int accept(int fd, struct sockaddr* address, socklen_t* length) {
  static const auto c_accept = lab::green::real<int (*)(int, sockaddr*, socklen_t*)>("accept");
  if (lab::green::cooperate()) lab::green::wait_ready(fd, false);  // a client is waiting
  return c_accept(fd, address, length);
}

int connect(int fd, const struct sockaddr* address, socklen_t length) {
  static const auto c_connect = lab::green::real<int (*)(int, const sockaddr*, socklen_t)>("connect");
  if (!lab::green::cooperate()) return c_connect(fd, address, length);
  // Start the connection without waiting, then wait for it as a greenlet.
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int result = c_connect(fd, address, length);
  if (result != 0 && errno == EINPROGRESS && lab::green::wait_ready(fd, true)) {
    int error = 0;
    socklen_t error_length = sizeof error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_length);
    result = error == 0 ? 0 : -1;
    errno = error;
  }
  const int saved = errno;
  fcntl(fd, F_SETFL, flags);
  errno = saved;
  return result;
}

}  // extern "C"
