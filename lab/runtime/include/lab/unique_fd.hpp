// Owners for the kernel's handles: a file descriptor, a pipe, an open
// directory. Each closes what it holds when it goes out of scope, so an
// exception between two pipe() calls leaks nothing.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>
#include <utility>

namespace lab {

// Owns one file descriptor (-1: none). Move-only.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

  // Closes what it holds (if anything) and holds `fd` instead.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Both ends of a pipe.
struct pipe_ends {
  unique_fd read;
  unique_fd write;
};

// A pipe whose ends are closed on exec (a child gets only what it is given
// on purpose). Throws std::system_error if the kernel refuses.
inline pipe_ends make_pipe(int flags = O_CLOEXEC) {
  int ends[2];
  if (::pipe2(ends, flags) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  return {unique_fd(ends[0]), unique_fd(ends[1])};
}

// An open directory (opendir), closed with closedir.
struct dir_closer {
  void operator()(DIR* dir) const { ::closedir(dir); }
};
using unique_dir = std::unique_ptr<DIR, dir_closer>;

inline unique_dir open_dir(const char* path) {
  return unique_dir(::opendir(path));
}

}  // namespace lab
