#include "demo.hpp"

#include <utility>

namespace lab::demos {
namespace {
// Set once by main() before any demo runs or thread starts, read after.
protocol::channel_writer the_channel;
}  // namespace

void use_channel(protocol::channel_writer channel) {
  the_channel = std::move(channel);
}

const protocol::channel_writer& channel() {
  return the_channel;
}

void report_metric(const std::string& name, double value, const std::string& unit) {
  channel().send(protocol::metric{.name = name, .value = value, .unit = unit});
}

std::map<std::string, demo>& registry() {
  static std::map<std::string, demo> demos;
  return demos;
}

registration::registration(demo d) {
  const params defaults(d.params, {});  // throws if a declared default is out of its range
  const std::string name = d.name;
  registry().emplace(name, std::move(d));
}

}  // namespace lab::demos
