// What a check asks of its run: the stage, the seed, whether TSan is on.
#include <cstdint>

#include "env_number.hpp"
#include "lab/check.hpp"
#include "lab/protocol.hpp"

namespace lab::check {

int stage() {
  return detail::env_number<int>(protocol::env::check_stage, protocol::defaults::stage);
}

std::uint64_t seed() {
  return detail::env_number<std::uint64_t>(protocol::env::check_seed, protocol::defaults::seed);
}

bool under_tsan() {
#if defined(__SANITIZE_THREAD__)
  return true;
#else
  return false;
#endif
}

}  // namespace lab::check
