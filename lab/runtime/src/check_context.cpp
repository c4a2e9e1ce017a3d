// What a check asks of its run: the stage, the seed, whether TSan is on.
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "env_number.hpp"
#include "lab/check.hpp"
#include "lab/progress.hpp"
#include "lab/protocol.hpp"

namespace lab::check {

int stage() {
  return detail::env_number<int>(protocol::env::check_stage, protocol::defaults::stage);
}

std::uint64_t seed() {
  return detail::env_number<std::uint64_t>(protocol::env::check_seed, protocol::defaults::seed);
}

namespace {
// Why the check in progress could not be decided; "" if it could. Guarded
// by undecided_mu: a check may call undecided() from a helper thread.
std::mutex undecided_mu;
std::string undecided_why;
}  // namespace

void undecided(const std::string& why) {
  const std::scoped_lock lock(undecided_mu);
  if (undecided_why.empty()) undecided_why = why;
}

namespace detail {
std::string take_undecided() {
  const std::scoped_lock lock(undecided_mu);
  return std::exchange(undecided_why, std::string());
}
}  // namespace detail

bool under_tsan() {
#if defined(__SANITIZE_THREAD__)
  return true;
#else
  return false;
#endif
}

}  // namespace lab::check
