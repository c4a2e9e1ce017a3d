// lab-demos: runs one registered demo. `lab-demos --list` lists the demos
// (to lab as demo_listed events on the result channel; to a person, as
// text); `lab-demos NAME key=value ...` runs one.
#include <fmt/core.h>

#include <iostream>
#include <map>
#include <string>

#include <lab/protocol.hpp>
#include <lab/settings.hpp>

#include "demo.hpp"

int main(int argc, char** argv) {
  // First: the channel's variables leave the environment before anything
  // else runs (a demo's child processes do not see them either).
  lab::demos::use_channel(lab::protocol::take_channel_from_environment());
  using lab::demos::registry;
  if (argc < 2) {
    std::cerr << "usage: lab-demos NAME [key=value ...] | --list\n";
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--list") {
    for (const auto& [key, d] : registry()) {
      if (lab::demos::channel().connected())
        lab::demos::channel().send(
            lab::protocol::demo_listed{d.name, d.summary, d.params_help, d.limits});
      else
        std::cout << fmt::format("{:<22} {}\n", d.name, d.summary);
    }
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
