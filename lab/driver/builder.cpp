#include "builder.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "build_config.hpp"
#include "folder_lock.hpp"

extern char** environ;

namespace lab {
namespace fs = std::filesystem;
namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Replaces `path` with `text` unless it holds exactly that already, through a
// rename: a reader (another lab's compiler) sees the old file or the new one,
// never half of one, and an unchanged file keeps its time stamp.
void write_if_changed(const fs::path& path, const std::string& text) {
  if (fs::exists(path) && read_file(path) == text) return;
  const fs::path temporary = fs::path(path).concat(fmt::format(".{}.tmp", getpid()));
  std::ofstream(temporary) << text;
  std::error_code ec;
  fs::rename(temporary, path, ec);
}

// FNV-1a: a stable hash for naming cache folders (std::hash need not be stable).
std::uint64_t stable_hash(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

// A compile or link step: the command, and where its output goes.
struct step {
  std::vector<std::string> argv;
  fs::path log;
  pid_t pid = -1;
  int status = 0;
};

// Starts a step in `dir` with stdout and stderr going to its log file.
bool start_step(step& s, const fs::path& dir) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, s.log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, dir.c_str());
  // Its own process group: a Ctrl-C meant for a running check (in the REPL)
  // must not kill the compiler and pass for a compile error.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  std::vector<char*> args;
  for (auto& arg : s.argv) args.push_back(arg.data());
  args.push_back(nullptr);
  const int error = posix_spawnp(&s.pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    std::ofstream(s.log) << fmt::format("cannot run {}: {}\n", s.argv[0], std::strerror(error));
    s.status = -1;
    s.pid = -1;
  }
  return error == 0;
}

// True if a step ran and ended well (once it was finished).
bool succeeded(const step& s) {
  return s.pid > 0 && WIFEXITED(s.status) && WEXITSTATUS(s.status) == 0;
}

// Waits for a started step; true if it succeeded.
bool finish_step(step& s) {
  if (s.pid > 0) {
    while (waitpid(s.pid, &s.status, 0) < 0 && errno == EINTR) {
    }
  }
  return succeeded(s);
}

// How many compilers run at once: one per core (at least two, so that the
// plain and ThreadSanitizer variants of the student's file build side by
// side). More would only share the same cores and the memory.
unsigned build_jobs() {
  return std::max(2u, std::thread::hardware_concurrency());
}

// Runs `steps` in `dir`, at most build_jobs() at a time, in order; returns
// when all have ended (succeeded() then tells how each went).
void run_steps(const std::vector<step*>& steps, const fs::path& dir) {
  std::size_t started = 0;
  for (std::size_t done = 0; done < steps.size(); ++done) {
    while (started < steps.size() && started - done < build_jobs())
      start_step(*steps[started++], dir);
    finish_step(*steps[done]);
  }
}

// Dependencies named in a compiler depfile (make syntax: "out.o: a.cpp b.hpp \").
std::vector<fs::path> read_depfile(const fs::path& depfile) {
  std::string text = read_file(depfile);
  std::vector<fs::path> deps;
  const auto colon = text.find(": ");
  if (colon == std::string::npos) return deps;
  std::istringstream words(text.substr(colon + 2));
  std::string word;
  while (words >> word)
    if (word != "\\") deps.emplace_back(word);
  return deps;
}

// True if `object` is newer than its sources and headers and was built with `flags`.
bool up_to_date(const fs::path& object, const fs::path& dir, const std::string& flags) {
  std::error_code ec;
  const fs::path depfile = fs::path(object).replace_extension(".d");
  const fs::path flagfile = fs::path(object).replace_extension(".flags");
  if (!fs::exists(object, ec) || !fs::exists(depfile, ec) || read_file(flagfile) != flags)
    return false;
  const auto built = fs::last_write_time(object, ec);
  for (const auto& dep : read_depfile(depfile)) {
    const fs::path full = dep.is_absolute() ? dep : dir / dep;
    const auto changed = fs::last_write_time(full, ec);
    if (ec || changed > built) return false;
  }
  return true;
}

// The path to give the compiler: relative to the course folder when inside
// it, so that diagnostics read "exercises/primes.cpp:12:5: error: ...".
std::string path_for_compiler(const fs::path& file, const fs::path& root) {
  const fs::path relative = fs::relative(file, root);
  if (!relative.empty() && *relative.begin() != "..") return relative.string();
  return fs::absolute(file).string();
}

// The flags of every file of a check program, chosen for the wait after an
// edit (measured on primes.cpp, with the precompiled headers, on two idle cores):
// - plain: -O1. The timing table times lab::is_prime, which the runtime
//   library compiles with release flags; the student's code only hands out
//   the numbers. -O1 compiles it in 30% less time than -O2 (-O0 is no
//   faster), which takes 0.2 s off the wait; the timing table keeps its
//   figures within 2%, except the thread-pool rows (lab::thread_pool's
//   template code is compiled into the student's file), about 5% slower at
//   every worker count, so their speedup tells the same story. No -g:
//   nothing reads the debug information, and it costs a fifth of the compile.
// - ThreadSanitizer: -O1, as its manual advises, and -g1: the line tables
//   its reports need to name the student's file and line, without the rest
//   of -g (a quarter of the compile).
std::vector<std::string> compile_flags(build_flavor flavor) {
  std::vector<std::string> flags = {"-std=c++20", "-pthread",
                                    "-O1",        "-Wall",
                                    "-Wextra",    "-fdiagnostics-color=never",
                                    "-I",         build_config::runtime_include_dir};
  if (flavor == build_flavor::tsan) flags.insert(flags.end(), {"-g1", "-fsanitize=thread"});
  return flags;
}

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += word + " ";
  return text;
}

const char* flavor_name(build_flavor flavor) {
  return flavor == build_flavor::tsan ? "tsan" : "plain";
}

// --- the precompiled header -------------------------------------------------

// The standard headers that the exercises, the solutions, the runtime's
// headers and the checks include: parsing them (90,000 lines for <future>
// and <thread> alone) is most of what compiling a student's file costs.
// They are compiled once per flavor into a precompiled header that every
// file of a check program includes first (g++ -include); a file compiles as
// if it had included them itself.
const char* const precompiled_headers[] = {
    "algorithm", "atomic",     "chrono", "condition_variable",
    "deque",     "functional", "future", "memory",
    "mutex",     "string",     "thread", "vector"};

// The precompiled header of one flavor, while a build makes sure it is up to date.
struct precompiled {
  fs::path dir;
  fs::path header;            // to name in -include; "" when it cannot be had
  std::string flag_text;      // what it must be built with
  std::optional<step> build;  // when it must be (re)built
  std::optional<folder_lock> lock;
};

// Takes the precompiled header of `flavor` in hand (one per flavor for every
// course and exercise, locked so that two labs never build it at once) and
// plans its build if it is missing or was built for other flags.
precompiled plan_precompiled_header(build_flavor flavor, const std::vector<std::string>& flags,
                                    const build_notice& notice) {
  precompiled p;
  p.dir =
      fs::path(build_config::binary_dir) / "check-programs" / "precompiled" / flavor_name(flavor);
  std::error_code ec;
  fs::create_directories(p.dir, ec);
  if (ec) return p;
  p.lock.emplace(p.dir, [&] {
    if (notice) notice("waiting for another lab's build of the precompiled standard headers");
  });
  p.header = p.dir / "lab_std.hpp";
  std::string text = "// Generated by lab's builder: the standard headers it precompiles.\n";
  for (const char* name : precompiled_headers) text += fmt::format("#include <{}>\n", name);
  write_if_changed(p.header, text);
  p.flag_text = join(flags) + build_config::cxx_compiler;
  const fs::path compiled = fs::path(p.header).concat(".gch");
  if (fs::exists(compiled, ec) && read_file(p.dir / "lab_std.flags") == p.flag_text &&
      fs::last_write_time(compiled, ec) >= fs::last_write_time(p.header, ec))
    return p;
  // Built under another name, then renamed: another lab's compiler that is
  // reading the old one is not disturbed.
  fs::remove(p.dir / "lab_std.flags", ec);
  step s;
  s.argv = {build_config::cxx_compiler};
  s.argv.insert(s.argv.end(), flags.begin(), flags.end());
  s.argv.insert(s.argv.end(), {"-x", "c++-header", p.header.string(), "-o",
                               fs::path(compiled).concat(".tmp").string()});
  s.log = p.dir / "lab_std.log";
  p.build = std::move(s);
  return p;
}

// After its build ran (if it had to): puts the new precompiled header in
// place, or gives it up, and lets other labs have it.
void finish_precompiled_header(precompiled& p) {
  if (p.build) {
    std::error_code ec;
    const fs::path compiled = fs::path(p.header).concat(".gch");
    const fs::path built = fs::path(compiled).concat(".tmp");
    if (succeeded(*p.build)) fs::rename(built, compiled, ec);
    if (!succeeded(*p.build) || ec) {
      // Without it every file still compiles (g++ reads lab_std.hpp itself), only slower.
      fs::remove(built, ec);
      fs::remove(compiled, ec);
    } else {
      write_if_changed(p.dir / "lab_std.flags", p.flag_text);
    }
  }
  p.lock.reset();
}

// --- one flavor's program ---------------------------------------------------

// One object file of a check program.
struct unit {
  fs::path source;
  fs::path object;
  bool is_student;
};

// The objects of a check program, named after their sources: the student's
// file is code.o, a check file checks/NAME.cpp.o. (Numbered objects once made
// a new check file link the stale object of the file that held its number.)
std::vector<unit> units_for(const fs::path& code, const std::vector<fs::path>& checks,
                            const fs::path& dir) {
  std::vector<unit> units = {{code, dir / "code.o", true}};
  for (const auto& check : checks)
    units.push_back({check, dir / "checks" / check.filename().concat(".o"), false});
  return units;
}

// Everything about building one flavor's check program.
struct program_build {
  build_flavor flavor = build_flavor::plain;
  fs::path dir;
  std::vector<std::string> flags;
  std::string flag_text;  // the flags and the compiler, as kept beside each object
  std::vector<unit> units;
  std::vector<std::pair<step, const unit*>> compiles;  // the out-of-date units
  build_result result;
  bool failed = false;  // result.summary says why
};

// Records the first failed compile of `b` in its result: the student's
// errors are the ones shown, else the checks' (the course's fault).
void explain_compile_failure(program_build& b, const exercise& e, const fs::path& root,
                             const std::string& code_name) {
  for (auto& [s, u] : b.compiles) {
    if (succeeded(s)) continue;
    const bool first = !b.failed;
    b.failed = true;
    if (!u->is_student && !first) continue;
    const std::string output = read_file(s.log);
    const int errors = count_errors(output);
    b.result.diagnostics = trim_diagnostics(output);
    b.result.course_bug = !u->is_student;
    b.result.summary =
        u->is_student
            ? fmt::format("{} does not compile: {} error{}. Fix the first one, then run again.",
                          code_name, errors, errors == 1 ? "" : "s")
            : fmt::format(
                  "the checks for {} do not compile ({}): this is the course's fault, not yours; "
                  "tell your instructor",
                  e.name, path_for_compiler(u->source, root));
    if (u->is_student) return;
  }
}

// The libraries a check program links: the harness and the runtime, and for
// an exercise with green threads the patch, the green library and
// Boost.Context (each before what it uses: static libraries are searched in
// order). course.cpp refuses green threads with a ThreadSanitizer pass.
std::vector<fs::path> libraries(build_flavor flavor, const exercise& e) {
  const bool tsan = flavor == build_flavor::tsan;
  if (e.green_threads && !tsan)
    return {build_config::check_lib, build_config::green_patch_lib, build_config::green_lib,
            build_config::runtime_lib, build_config::boost_context_lib};
  return {tsan ? build_config::check_tsan_lib : build_config::check_lib,
          tsan ? build_config::runtime_tsan_lib : build_config::runtime_lib};
}

// The link step of `b`'s program, or nothing if the program is up to date:
// linked after its objects and libraries, and from the same list of them (a
// check file removed since must not stay in it).
std::optional<step> link_step(program_build& b, const exercise& e) {
  const bool tsan = b.flavor == build_flavor::tsan;
  const fs::path program = b.dir / "check";
  step s;
  s.argv = {build_config::cxx_compiler, "-pthread"};
  if (tsan) s.argv.push_back("-fsanitize=thread");
  for (const auto& u : b.units) s.argv.push_back(u.object.string());
  for (const auto& lib : libraries(b.flavor, e)) s.argv.push_back(lib.string());
  // The patch finds the C library's calls with dlsym (in libdl before glibc 2.34).
  if (e.green_threads && *build_config::dl_libs != '\0')
    s.argv.push_back(std::string("-l") + build_config::dl_libs);
  s.argv.insert(s.argv.end(), {"-o", program.string()});
  s.log = b.dir / "link.log";
  std::error_code ec;
  bool link = !fs::exists(program, ec) || !b.compiles.empty() ||
              read_file(b.dir / "link.inputs") != join(s.argv);
  for (const auto& lib : libraries(b.flavor, e)) {
    if (!fs::exists(lib, ec)) {
      b.failed = true;
      b.result.summary = fmt::format(
          "lab's runtime library {} is missing; run bin/lab again to rebuild lab", lib.string());
      return std::nullopt;
    }
    if (fs::last_write_time(lib, ec) > fs::last_write_time(program, ec)) link = true;
  }
  if (!link) return std::nullopt;
  fs::remove(b.dir / "link.inputs", ec);
  return s;
}

// Records how the link of `b` went.
void finish_link(program_build& b, const step& s, const exercise& e, const std::string& code_name) {
  std::error_code ec;
  if (succeeded(s)) {
    write_if_changed(b.dir / "link.inputs", join(s.argv));
    b.result.rebuilt = true;
    return;
  }
  b.failed = true;
  fs::remove(b.dir / "check", ec);
  const std::string output = read_file(s.log);
  b.result.diagnostics = trim_diagnostics(output, 3, 12);
  b.result.summary = explain_link_errors(output, code_name);
  if (b.result.summary.empty())
    b.result.summary = fmt::format("the check program for {} does not link", e.name);
}

}  // namespace

int count_errors(const std::string& output) {
  int errors = 0;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line))
    if (line.find(" error: ") != std::string::npos ||
        line.find(" fatal error: ") != std::string::npos)
      ++errors;
  return errors;
}

std::string trim_diagnostics(const std::string& output, int max_errors, std::size_t max_lines) {
  std::istringstream lines(output);
  std::string line, kept;
  int errors = 0;
  std::size_t count = 0;
  while (std::getline(lines, line) && count < max_lines) {
    if (line.find("compilation terminated") != std::string::npos) continue;
    const bool is_error = line.find(" error: ") != std::string::npos;
    if (is_error && ++errors > max_errors) break;
    // "In file included from" or "In function" headers before an error we drop would mislead.
    kept += line + "\n";
    ++count;
  }
  return kept;
}

std::string explain_link_errors(const std::string& output, const std::string& student_file) {
  static const std::regex undefined("undefined reference to `([^']+)'");
  std::smatch match;
  if (!std::regex_search(output, match, undefined)) return "";
  return fmt::format(
      "the checks call {}, which {} does not define (renamed it, or changed its parameters?)",
      match[1].str(), student_file);
}

std::vector<build_result> build_check_programs(const course& c, const exercise& e,
                                               code_source source,
                                               const std::vector<build_flavor>& flavors,
                                               const build_notice& notice) {
  const auto started = std::chrono::steady_clock::now();
  const fs::path root = fs::absolute(c.root);
  const fs::path code = source == code_source::exercise ? c.exercise_file(e) : c.solution_file(e);
  const std::string code_name = path_for_compiler(code, root);
  const auto finish = [&](std::vector<build_result> results) {
    const auto now = std::chrono::steady_clock::now();
    for (auto& r : results) r.seconds = std::chrono::duration<double>(now - started).count();
    return results;
  };
  const auto fail_all = [&](build_result r) {
    return finish(std::vector<build_result>(flavors.size(), r));
  };

  std::error_code ec;
  if (!fs::exists(code, ec)) {
    build_result r;
    r.summary = fmt::format("{} is missing; `git checkout -- {}` brings the original back",
                            code_name, code_name);
    return fail_all(r);
  }
  std::vector<fs::path> checks;
  for (const auto& entry : fs::directory_iterator(c.checks_dir(e), ec))
    if (entry.path().extension() == ".cpp") checks.push_back(entry.path());
  std::sort(checks.begin(), checks.end());
  if (checks.empty()) {
    build_result r;
    r.course_bug = true;
    r.summary = fmt::format(
        "no checks for {} in {} (wrong --checks folder?): this is the course's fault, not yours",
        e.name, c.checks_dir(e).string());
    return fail_all(r);
  }

  // One cache folder per course+checks location, exercise, source and flavor.
  const std::string place =
      fs::weakly_canonical(root).string() + "|" + fs::weakly_canonical(c.checks_root).string();
  const fs::path exercise_dir = fs::path(build_config::binary_dir) / "check-programs" /
                                fmt::format("{:016x}", stable_hash(place)) / e.name;
  const char* const source_name = source == code_source::exercise ? "exercise" : "solution";
  std::vector<program_build> builds(flavors.size());
  for (std::size_t i = 0; i < flavors.size(); ++i) {
    program_build& b = builds[i];
    b.flavor = flavors[i];
    b.dir = exercise_dir / fmt::format("{}-{}", source_name, flavor_name(b.flavor));
    b.flags = compile_flags(b.flavor);
    fs::create_directories(b.dir / "checks", ec);
    if (ec) {
      build_result r;
      r.summary = fmt::format("cannot create {}: {}", b.dir.string(), ec.message());
      return fail_all(r);
    }
  }
  // Two labs may build the same program at once (two terminals; tests run in
  // parallel): one must not delete objects the other is linking. Each holds
  // the folders' locks for the whole build; the second then finds everything
  // up to date. Locks are always taken in one order (these folders, plain
  // before tsan, then the precompiled headers' below, plain before tsan), so
  // that two labs never wait for each other in a circle.
  std::vector<folder_lock> locks;
  for (const build_flavor flavor : {build_flavor::plain, build_flavor::tsan})
    for (const auto& b : builds)
      if (b.flavor == flavor)
        locks.emplace_back(b.dir, [&] {
          if (notice)
            notice(fmt::format("waiting for another lab's build of the same check program ({}, {})",
                               e.name, flavor == build_flavor::tsan ? "ThreadSanitizer" : "plain"));
        });

  // The precompiled headers, each flavor's, side by side (only on a first
  // build, or after lab's flags changed).
  std::vector<precompiled> headers(builds.size());
  for (const build_flavor flavor : {build_flavor::plain, build_flavor::tsan})
    for (std::size_t i = 0; i < builds.size(); ++i)
      if (builds[i].flavor == flavor)
        headers[i] = plan_precompiled_header(flavor, builds[i].flags, notice);
  std::vector<step*> steps;
  for (auto& h : headers)
    if (h.build) steps.push_back(&*h.build);
  run_steps(steps, root);
  for (std::size_t i = 0; i < builds.size(); ++i) {
    finish_precompiled_header(headers[i]);
    if (!headers[i].header.empty())
      builds[i].flags.insert(builds[i].flags.end(), {"-include", headers[i].header.string()});
    builds[i].flag_text = join(builds[i].flags) + build_config::cxx_compiler;
  }

  // Compile what is out of date: the student's file first, in every flavor,
  // then the checks, so that after an edit the compiles that matter start at
  // once, side by side.
  for (auto& b : builds) {
    b.units = units_for(code, checks, b.dir);
    for (const auto& u : b.units) {
      if (up_to_date(u.object, root, b.flag_text)) continue;
      step s;
      s.argv = {build_config::cxx_compiler};
      s.argv.insert(s.argv.end(), b.flags.begin(), b.flags.end());
      s.argv.insert(s.argv.end(),
                    {"-MMD", "-MF", fs::path(u.object).replace_extension(".d").string(), "-c",
                     path_for_compiler(u.source, root), "-o", u.object.string()});
      s.log = fs::path(u.object).replace_extension(".log");
      // Only a compile that ends well makes an object up to date again.
      fs::remove(u.object, ec);
      fs::remove(fs::path(u.object).replace_extension(".flags"), ec);
      b.compiles.emplace_back(std::move(s), &u);
    }
  }
  steps.clear();
  for (const bool student : {true, false})
    for (auto& b : builds)
      for (auto& [s, u] : b.compiles)
        if (u->is_student == student) steps.push_back(&s);
  run_steps(steps, root);
  for (auto& b : builds) {
    for (auto& [s, u] : b.compiles)
      if (succeeded(s))
        write_if_changed(fs::path(u->object).replace_extension(".flags"), b.flag_text);
    explain_compile_failure(b, e, root, code_name);
    b.result.rebuilt = !b.compiles.empty();
  }

  // Link what must be, side by side.
  std::vector<std::pair<step, program_build*>> links;
  for (auto& b : builds) {
    if (b.failed) continue;
    if (auto s = link_step(b, e)) links.emplace_back(std::move(*s), &b);
  }
  steps.clear();
  for (auto& [s, b] : links) steps.push_back(&s);
  run_steps(steps, root);
  for (auto& [s, b] : links) finish_link(*b, s, e, code_name);

  std::vector<build_result> results;
  for (auto& b : builds) {
    if (!b.failed) {
      b.result.ok = true;
      b.result.program = b.dir / "check";
    }
    results.push_back(std::move(b.result));
  }
  return finish(std::move(results));
}

build_result build_check_program(const course& c, const exercise& e, code_source source,
                                 build_flavor flavor, const build_notice& notice) {
  return build_check_programs(c, e, source, {flavor}, notice).front();
}

}  // namespace lab
