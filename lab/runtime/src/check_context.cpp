#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

#include "check_channel.hpp"
#include "check_timing.hpp"
#include "lab/check.hpp"

namespace lab::check {
namespace {

// Reads an integer environment variable; `fallback` if unset or malformed.
template <typename T>
T env_number(const char* name, T fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  T value{};
  const std::string_view view(text);
  auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (error != std::errc() || end != view.data() + view.size()) return fallback;
  return value;
}

pid_t the_harness_pid = 0;

}  // namespace

int stage() {
  return env_number<int>("LAB_CHECK_STAGE", 1);
}

std::uint64_t seed() {
  return env_number<std::uint64_t>("LAB_CHECK_SEED", 20261122);
}

bool under_tsan() {
#if defined(__SANITIZE_THREAD__)
  return true;
#else
  return false;
#endif
}

timed::timed(int for_stage, std::function<void(long, int)> body) {
  detail::timed_bodies()[for_stage] = std::move(body);
}

namespace detail {

std::map<int, std::function<void(long, int)>>& timed_bodies() {
  static std::map<int, std::function<void(long, int)>> bodies;
  return bodies;
}

void send(const nlohmann::json& event) {
  static const int fd = env_number<int>("LAB_RESULT_FD", STDOUT_FILENO);
  std::string line = event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  const char* data = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t written = write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      return;  // the driver went away; nothing useful to do
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
}

pid_t harness_pid() {
  return the_harness_pid;
}
void remember_harness_pid() {
  the_harness_pid = getpid();
}

}  // namespace detail
}  // namespace lab::check
