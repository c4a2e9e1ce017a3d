#include "terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

namespace lab {
namespace {

std::string wrap(bool on, const char* code, std::string_view text) {
  if (!on) return std::string(text);
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

}  // namespace

std::string style::good(std::string_view text) const {
  return wrap(color, "32", text);
}
std::string style::bad(std::string_view text) const {
  return wrap(color, "31", text);
}
std::string style::note(std::string_view text) const {
  return wrap(color, "2", text);
}
std::string style::strong(std::string_view text) const {
  return wrap(color, "1", text);
}
std::string style::pass_mark() const {
  return good(unicode ? "✔" : "ok");
}
std::string style::fail_mark() const {
  return bad(unicode ? "✘" : "FAIL");
}

std::string style::undecided_mark() const {
  return note(unicode ? "?" : "UNDECIDED");
}

style style_for(int fd) {
  style s;
  const char* no_color = std::getenv("NO_COLOR");
  s.color = isatty(fd) != 0 && (no_color == nullptr || *no_color == '\0');
  return s;
}

int terminal_width(int fd) {
  winsize size{};
  if (isatty(fd) != 0 && ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 20) return size.ws_col;
  return 100;
}

}  // namespace lab
