// What a socket call failed with, in the kernel's words.
//
// Every call in lab/net/ that fails for a reason the caller did not ask to
// be told as a result (a refused connection, a port in use, too many open
// files) throws lab::net::error, whose what() names the call, the address
// where there is one, and errno's words:
//
//   "bind 127.0.0.1:8000: Address already in use"
//   "accept: Too many open files"
//
// Outcomes a server meets every day (nothing to read yet, a client that hung
// up or reset) are results, never exceptions: see io_status in socket.hpp.
#pragma once

#include <cerrno>
#include <string>
#include <system_error>

namespace lab::net {

class error : public std::system_error {
 public:
  error(int code, const std::string& what)
      : std::system_error(code, std::generic_category(), what) {}
};

// Throws lab::net::error for the errno of the call that just failed.
[[noreturn]] inline void throw_errno(const std::string& what) {
  throw error(errno, what);
}

}  // namespace lab::net
