#include "file_watch.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace lab {
namespace {

// How often a wait looks at the cancel flag even without a signal: Ctrl-C
// interrupts poll(), but one that lands just before poll() starts would
// otherwise go unseen until the next save.
constexpr int cancel_poll_ms = 250;
// Quiet this long after a save, and the save is over.
constexpr int settle_ms = 150;

bool cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load();
}

}  // namespace

file_watch::file_watch(const std::filesystem::path& file)
    : name_(file.filename().string()), fd_(inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  if (!fd_) throw std::system_error(errno, std::generic_category(), "inotify_init1");
  const std::string folder = file.parent_path().empty() ? "." : file.parent_path().string();
  if (inotify_add_watch(fd_.get(), folder.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0)
    throw std::system_error(errno, std::generic_category(), "inotify_add_watch " + folder);
}

bool file_watch::drain() {
  bool about_file = false;
  alignas(inotify_event) char buffer[4096];
  for (;;) {
    const ssize_t got = read(fd_.get(), buffer, sizeof buffer);
    if (got <= 0) return about_file;  // EAGAIN: nothing more waiting
    for (ssize_t at = 0; at < got;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      if (event->len > 0 && name_ == event->name) about_file = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
}

bool file_watch::wait_for_save(const std::atomic<bool>* cancel) {
  pollfd watched{fd_.get(), POLLIN, 0};
  bool saved = false;
  while (!saved) {
    if (cancelled(cancel)) return false;
    if (poll(&watched, 1, cancel_poll_ms) > 0) saved = drain();
  }
  // The save's other steps (a rename after a write, a second write).
  while (poll(&watched, 1, settle_ms) > 0) {
    if (cancelled(cancel)) return false;
    drain();
  }
  return !cancelled(cancel);
}

}  // namespace lab
