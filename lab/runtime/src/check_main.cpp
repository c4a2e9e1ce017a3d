// main() of every check program: runs the checks (or the timings) that the
// driver asked for through the environment. See lab/check.hpp.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>
#include <iostream>
#include <string_view>

#include "check_channel.hpp"
#include "check_timing.hpp"
#include "lab/check.hpp"
#include "lab/settings.hpp"

int main(int argc, char** argv) {
  lab::check::detail::link_reporter();
  lab::check::detail::remember_harness_pid();
  for (const auto& problem : lab::apply_settings_from_environment())
    std::cerr << "lab settings: " << problem << " (using the default)\n";
  const char* mode = std::getenv("LAB_CHECK_MODE");
  if (mode != nullptr && std::string_view(mode) == "time") return lab::check::detail::run_timing();

  lab::check::detail::send({{"event", "run"},
                            {"stage", lab::check::stage()},
                            {"seed", lab::check::seed()},
                            {"tsan", lab::check::under_tsan()}});
  doctest::Context context;
  context.setOption("reporters", "lab");
  context.applyCommandLine(argc, argv);  // lets an instructor pass -tc=... by hand
  const int failed = context.run();
  return failed == 0 ? 0 : 1;
}
