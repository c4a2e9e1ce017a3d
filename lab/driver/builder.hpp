// The builder: compiles one exercise's check program from the student's file
// (or the solution) and the hidden checks, incrementally, the way `make`
// would: a file is recompiled only if it, a header it includes, or the flags
// changed, and the program is linked again when its objects or libraries
// changed. The compiler's diagnostics for the student's file come back
// trimmed to the first errors, with file:line, and no build-system noise.
//
// Speed is the point: a student waits for this after every edit. The plain
// and ThreadSanitizer programs are built together, their compiles sharing
// the cores, and the standard headers every exercise includes are
// precompiled once per flavor (see precompiled_headers in builder.cpp).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "course.hpp"

namespace lab {

enum class code_source { exercise, solution };
enum class build_flavor { plain, tsan };

struct build_result {
  bool ok = false;
  bool rebuilt = false;           // false: everything was up to date
  std::filesystem::path program;  // the check program, when ok
  std::string summary;            // one line, when not ok
  std::string diagnostics;        // trimmed compiler/linker output, when not ok
  bool course_bug = false;        // the checks themselves failed to build
  double seconds = 0;
};

// What a build has to say while it runs, for the command to show: that it
// waits for another lab building the same folder. Called from the thread
// that builds, before the wait.
using build_notice = std::function<void(const std::string& message)>;

// Builds (or finds up to date) exercise `e`'s check program in each of
// `flavors` at once: their compiles share the cores, the student's file
// first, so that a one-line edit costs about one compile, not one per flavor.
// `flavors` names each flavor at most once; one result per flavor comes back,
// in the order of `flavors`.
// Runs the compiler as child processes, and no check program may run in a
// box meanwhile: a box's clean-up takes lab's new children for its own.
std::vector<build_result> build_check_programs(const course& c, const exercise& e,
                                               code_source source,
                                               const std::vector<build_flavor>& flavors,
                                               const build_notice& notice = {});

// The same for one flavor.
build_result build_check_program(const course& c, const exercise& e, code_source source,
                                 build_flavor flavor, const build_notice& notice = {});

// Keeps the compiler output up to and including the `max_errors`-th error
// (with the notes that follow it), and at most `max_lines` lines.
std::string trim_diagnostics(const std::string& output, int max_errors = 3,
                             std::size_t max_lines = 40);

// How many errors the compiler output reports.
int count_errors(const std::string& output);

// The one-line summary of a link failure: which function the checks need
// that the student's file does not define; "" if it is not that kind.
std::string explain_link_errors(const std::string& output, const std::string& student_file);

}  // namespace lab
