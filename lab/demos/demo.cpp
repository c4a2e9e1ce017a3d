#include "demo.hpp"

#include <fmt/core.h>

#include <charconv>
#include <sstream>
#include <utility>

namespace lab::demos {
namespace {

template <typename T>
T parse_number(const std::string& key, const std::string& text) {
  T value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    throw bad_param(fmt::format("{}={} is not a number", key, text));
  return value;
}

}  // namespace

const std::string* params::find(const std::string& key) const {
  auto found = values_.find(key);
  if (found == values_.end()) return nullptr;
  used_[key] = true;
  return &found->second;
}

long params::number(const std::string& key, long fallback) const {
  const std::string* text = find(key);
  return text == nullptr ? fallback : parse_number<long>(key, *text);
}

double params::real(const std::string& key, double fallback) const {
  const std::string* text = find(key);
  return text == nullptr ? fallback : parse_number<double>(key, *text);
}

namespace {

// "1,2,4" as numbers of type T.
template <typename T>
std::vector<T> parse_list(const std::string& key, const std::string& text) {
  std::vector<T> values;
  std::istringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ',')) values.push_back(parse_number<T>(key, part));
  if (values.empty()) throw bad_param(fmt::format("{}= needs at least one number", key));
  return values;
}

}  // namespace

std::vector<long> params::numbers(const std::string& key, std::vector<long> fallback) const {
  const std::string* text = find(key);
  return text == nullptr ? fallback : parse_list<long>(key, *text);
}

std::vector<double> params::reals(const std::string& key, std::vector<double> fallback) const {
  const std::string* text = find(key);
  return text == nullptr ? fallback : parse_list<double>(key, *text);
}

bool params::flag(const std::string& key, bool fallback) const {
  const std::string* text = find(key);
  if (text == nullptr) return fallback;
  if (*text == "1" || *text == "yes" || *text == "on") return true;
  if (*text == "0" || *text == "no" || *text == "off") return false;
  throw bad_param(fmt::format("{}={} should be 0 or 1", key, *text));
}

std::string params::text(const std::string& key, const std::string& fallback) const {
  const std::string* value = find(key);
  return value == nullptr ? fallback : *value;
}

std::vector<std::string> params::unused() const {
  std::vector<std::string> keys;
  for (const auto& [key, value] : values_)
    if (!used_.count(key)) keys.push_back(key);
  return keys;
}

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
  const std::string name = d.name;
  registry().emplace(name, std::move(d));
}

}  // namespace lab::demos
