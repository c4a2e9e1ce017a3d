// lab-demos: runs one registered demo. `lab-demos --list` lists the demos
// (to lab as demo_listed events on the result channel; to a person, as
// text; `--list --json` for tools); `lab-demos NAME key=value ...` runs one.
// Every parameter is checked against the demo's declarations before it
// starts: a value out of range is a usage error (exit 2), and the demo never runs.
// `lab-demos --serve SERVER key=value ...` runs one demo server in the foreground
// (lab serve), `lab-demos --servers` lists them (servers/serve.hpp).
#include <fmt/core.h>

#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <lab/protocol.hpp>
#include <lab/settings.hpp>

#include "demo.hpp"
#include "listing.hpp"
#include "servers/serve.hpp"

namespace {

constexpr int usage_error = 2;  // as lab's own: a word or a value the demo cannot take
constexpr const char* usage =
    "usage: lab-demos NAME [key=value ...] | --list [--json] | --serve SERVER [key=value ...] | "
    "--servers\n";

// Runs `d` with the key=value words in argv[first...].
int run_demo(const lab::demos::demo& d, int argc, char** argv, int first) {
  std::map<std::string, std::string> values;
  for (int i = first; i < argc; ++i) {
    const std::string word = argv[i];
    const auto equals = word.find('=');
    if (equals == std::string::npos || equals == 0) {
      std::cerr << fmt::format("demo {}: \"{}\" is not key=value (parameters: {})\n", d.name, word,
                               lab::demos::params_help(d.params));
      return usage_error;
    }
    values[word.substr(0, equals)] = word.substr(equals + 1);
  }
  for (const auto& problem : lab::apply_settings_from_environment())
    std::cerr << fmt::format("lab settings: {} (using the default)\n", problem);
  try {
    const lab::demos::params params(d.params, values);  // every value checked, before the run
    for (const auto& key : params.unknown())
      std::cerr << fmt::format("note: demo {} has no parameter '{}' (parameters: {})\n", d.name,
                               key, lab::demos::params_help(d.params));
    return d.run(params);
  } catch (const lab::demos::bad_param& error) {
    std::cerr << fmt::format("demo {}: {}\n", d.name, error.what());
    return usage_error;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // First: the channel's variables leave the environment before anything
  // else runs (a demo's child processes do not see them either).
  lab::demos::use_channel(lab::protocol::take_channel_from_environment());
  if (argc < 2) {
    std::cerr << usage;
    return usage_error;
  }
  const std::string name = argv[1];
  if (name == "--list") {
    const std::string format = argc > 2 ? argv[2] : "";
    if (format.empty() && lab::demos::channel().connected())
      lab::demos::list_for_lab();
    else if (format.empty())
      lab::demos::list_for_people(std::cout);
    else if (format == "--json")
      lab::demos::list_as_json(std::cout);
    else {
      std::cerr << usage;
      return usage_error;
    }
    return 0;
  }
  if (name == "--servers") {
    if (lab::demos::channel().connected())
      lab::demos::list_servers_for_lab();
    else
      lab::demos::list_servers_for_people(std::cout);
    return 0;
  }
  if (name == "--serve" && argc > 2)
    return lab::demos::serve_in_foreground(argv[2],
                                           std::vector<std::string>(argv + 3, argv + argc));
  const auto found = lab::demos::registry().find(name);
  if (found == lab::demos::registry().end()) {
    std::cerr << fmt::format("lab-demos: no demo named '{}'\n", name);
    return usage_error;
  }
  return run_demo(found->second, argc, argv, 2);
}
