// lab's exit codes, for scripts and CI. Declared apart from the CLI so that
// the layers below it (runs, demos) can say which one a run deserves.
#pragma once

namespace lab::exit_code {
inline constexpr int ok = 0;
inline constexpr int failed = 1;     // a check failed or the code did not compile
inline constexpr int bad_usage = 2;  // unknown command, option or exercise; bad input file
inline constexpr int lab_error = 3;  // lab itself could not do its job, or the course is broken
inline constexpr int undecided = 4;  // no check failed, but the machine was too busy to decide some
inline constexpr int interrupted = 130;
}  // namespace lab::exit_code
