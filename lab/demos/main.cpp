// lab-demos: runs one registered demo. `lab-demos --list` prints the demos
// as JSON for the driver; `lab-demos NAME key=value ...` runs one.
#include <fmt/core.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include <lab/settings.hpp>

#include "demo.hpp"

int main(int argc, char** argv) {
  using lab::demos::registry;
  if (argc < 2) {
    std::cerr << "usage: lab-demos NAME [key=value ...] | --list\n";
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--list") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [key, d] : registry())
      list.push_back({{"name", d.name}, {"summary", d.summary}, {"params", d.params_help}});
    std::cout << list.dump() << "\n";
    return 0;
  }
  auto found = registry().find(name);
  if (found == registry().end()) {
    std::cerr << fmt::format("lab-demos: no demo named '{}'\n", name);
    return 2;
  }
  std::map<std::string, std::string> values;
  for (int i = 2; i < argc; ++i) {
    const std::string word = argv[i];
    const auto equals = word.find('=');
    if (equals == std::string::npos || equals == 0) {
      std::cerr << fmt::format("demo {}: \"{}\" is not key=value (parameters: {})\n", name, word,
                               found->second.params_help);
      return 2;
    }
    values[word.substr(0, equals)] = word.substr(equals + 1);
  }
  for (const auto& problem : lab::apply_settings_from_environment())
    std::cerr << fmt::format("lab settings: {} (using the default)\n", problem);
  const lab::demos::params params(values);
  try {
    const int code = found->second.run(params);
    for (const auto& key : params.unused())
      std::cerr << fmt::format("note: demo {} has no parameter '{}' (parameters: {})\n", name, key,
                               found->second.params_help);
    return code;
  } catch (const lab::demos::bad_param& error) {
    std::cerr << fmt::format("demo {}: {} (parameters: {})\n", name, error.what(),
                             found->second.params_help);
    return 2;
  }
}
