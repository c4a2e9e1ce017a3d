// main() of every check program: runs the checks (or the timings) that lab
// asked for through the environment, and reports on the result channel. See
// lab/check.hpp and lab/protocol.hpp.
//
// Why everything that reports is in this one translation unit: the student's
// code is linked into the same program as this harness. If any function
// with external linkage sent an event with the run's secret (a "send", a
// reporter's method, the timing runner), student code could declare it and
// call it, and report "passed" for a check that failed. So the channel
// writer, the constructor that takes it, the doctest reporter, the crash
// handler and the timing runner are defined in private headers included
// only here (check_channel.hpp, check_crash.hpp, check_reporter.hpp,
// check_timing.hpp), all in an anonymous namespace: nothing outside this
// file can name them. The secret itself was scrubbed from the environment
// before any student code ran (check_channel.hpp).
#define LAB_CHECK_MAIN_TRANSLATION_UNIT
// No doctest signal handlers: they report a crash from inside the handler
// through the reporter (strings, allocation, locks), which is not
// async-signal-safe. check_crash.hpp installs handlers that are.
#define DOCTEST_CONFIG_NO_POSIX_SIGNALS
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "check_channel.hpp"
#include "check_crash.hpp"
#include "check_reporter.hpp"
#include "check_timing.hpp"
#include "lab/check.hpp"
#include "lab/protocol.hpp"
#include "lab/settings.hpp"

namespace {

// Line by line: what the student's code prints with printf or std::cout
// reaches lab at each newline, so that the lines a check printed before it
// crashed are not lost in stdio's buffer (to a pipe, stdout is otherwise
// written in blocks of 4 KB, and a crash drops what was not). setvbuf must
// come before anything is printed: priority 102 runs right after
// take_channel() (101) and before the student's static initialisers.
__attribute__((constructor(102))) void print_line_by_line() {
  if (lab::check::channel().connected()) std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lab::check;
  for (const auto& problem : lab::apply_settings_from_environment())
    std::cerr << "lab settings: " << problem << " (using the default)\n";
  const char* mode = std::getenv(lab::protocol::env::check_mode);
  if (mode != nullptr && std::string_view(mode) == lab::protocol::mode_time) return run_timing();

  doctest::Context context;
  // Without a channel (an instructor running a check program by hand),
  // doctest's own console reporter shows the results instead.
  if (channel().connected()) {
    context.setOption("reporters", "lab");
    install_crash_reporting();
  }
  context.applyCommandLine(argc, argv);  // lets an instructor pass -tc=... by hand
  tally.main_run_started = true;
  const int failed = context.run();
  if (tally.finished)
    send(lab::protocol::run_end{.checks_run = tally.checks_run,
                                .checks_failed = tally.checks_failed});
  return failed == 0 ? 0 : 1;
}
