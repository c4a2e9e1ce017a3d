#include "run_profile.hpp"

#include <fmt/core.h>

#include <stdexcept>

namespace lab {
namespace {

using json = nlohmann::json;

// A whole number from 1 to `most` under `key`, or an exception saying why not.
std::uint64_t bounded(const json& limits, const std::string& key, std::uint64_t most) {
  const json& value = limits.at(key);
  if (!value.is_number_integer())
    throw std::invalid_argument(fmt::format("limits: \"{}\" should be a whole number", key));
  const auto number = value.get<long long>();
  if (number < 1)
    throw std::invalid_argument(fmt::format("limits: \"{}\" should be at least 1", key));
  if (static_cast<std::uint64_t>(number) > most)
    throw std::invalid_argument(
        fmt::format("limits: {} {} is above lab's ceiling of {}", key, number, most));
  return static_cast<std::uint64_t>(number);
}

}  // namespace

namespace profiles {

run_profile check_program() {
  return run_profile{};
}

run_profile demo() {
  run_profile p;
  p.timeout = std::chrono::seconds(300);
  p.cpu_seconds = 1200;
  p.max_tasks = 512;
  p.address_space_bytes = 0;
  p.network = network_access::host;
  return p;
}

run_profile server() {
  run_profile p = demo();
  p.timeout = std::chrono::hours(1);
  return p;
}

run_profile query() {
  run_profile p;
  p.timeout = std::chrono::seconds(10);
  p.cpu_seconds = 20;
  p.address_space_bytes = 0;  // a sanitizer build of lab-demos reserves terabytes
  return p;
}

}  // namespace profiles

run_profile apply_limits(run_profile base, const json& limits) {
  if (limits.is_null()) return base;
  if (!limits.is_object())
    throw std::invalid_argument("\"limits\" should be an object such as {\"open_files\": 1024}");
  for (const auto& [key, value] : limits.items()) {
    if (key == "timeout_seconds") {
      base.timeout = std::chrono::seconds(bounded(limits, key, ceiling::timeout_seconds));
    } else if (key == "cpu_seconds") {
      base.cpu_seconds = bounded(limits, key, ceiling::cpu_seconds);
    } else if (key == "memory_mb") {
      base.address_space_bytes = bounded(limits, key, ceiling::memory_mb) << 20;
    } else if (key == "max_tasks") {
      base.max_tasks = static_cast<int>(bounded(limits, key, ceiling::max_tasks));
    } else if (key == "open_files") {
      base.open_files = bounded(limits, key, ceiling::open_files);
    } else if (key == "file_size_mb") {
      base.file_size_bytes = bounded(limits, key, ceiling::file_size_mb) << 20;
    } else if (key == "output_kb") {
      base.output_cap_bytes = static_cast<std::size_t>(bounded(limits, key, ceiling::output_kb))
                              << 10;
    } else if (key == "network") {
      if (value == "isolated")
        base.network = network_access::isolated;
      else if (value == "host")
        base.network = network_access::host;
      else
        throw std::invalid_argument("limits: \"network\" should be \"isolated\" or \"host\"");
    } else {
      throw std::invalid_argument(
          fmt::format("limits: unknown key \"{}\" (known: timeout_seconds, cpu_seconds, memory_mb, "
                      "max_tasks, open_files, file_size_mb, output_kb, network)",
                      key));
    }
  }
  return base;
}

}  // namespace lab
