#include "builder.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/core.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>

#include "build_config.hpp"
#include "lab/unique_fd.hpp"

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

// FNV-1a: a stable hash for naming cache folders (std::hash need not be stable).
std::uint64_t stable_hash(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return hash;
}

// An exclusive flock() on a folder's ".lock" file, held while it lives.
class folder_lock {
 public:
  explicit folder_lock(const fs::path& dir)
      : fd_(open((dir / ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
    if (fd_) {
      while (flock(fd_.get(), LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }

 private:
  unique_fd fd_;  // closing it releases the lock
};

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

bool finish_step(step& s) {
  if (s.pid > 0) {
    while (waitpid(s.pid, &s.status, 0) < 0 && errno == EINTR) {
    }
  }
  return s.pid > 0 && WIFEXITED(s.status) && WEXITSTATUS(s.status) == 0;
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

std::vector<std::string> compile_flags(build_flavor flavor) {
  std::vector<std::string> flags = {"-std=c++20", "-pthread",
                                    "-g",         "-Wall",
                                    "-Wextra",    "-fdiagnostics-color=never",
                                    "-I",         build_config::runtime_include_dir};
  if (flavor == build_flavor::tsan) {
    flags.insert(flags.end(), {"-O1", "-fsanitize=thread"});
  } else {
    flags.push_back("-O2");
  }
  return flags;
}

std::string join(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += word + " ";
  return text;
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

build_result build_check_program(const course& c, const exercise& e, code_source source,
                                 build_flavor flavor) {
  const auto started = std::chrono::steady_clock::now();
  build_result result;
  const fs::path root = fs::absolute(c.root);
  const fs::path code = source == code_source::exercise ? c.exercise_file(e) : c.solution_file(e);
  const std::string code_name = path_for_compiler(code, root);
  const auto finish = [&](build_result r) {
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return r;
  };

  std::error_code ec;
  if (!fs::exists(code, ec)) {
    result.summary = fmt::format("{} is missing; `git checkout -- {}` brings the original back",
                                 code_name, code_name);
    return finish(result);
  }
  std::vector<fs::path> checks;
  for (const auto& entry : fs::directory_iterator(c.checks_dir(e), ec))
    if (entry.path().extension() == ".cpp") checks.push_back(entry.path());
  std::sort(checks.begin(), checks.end());
  if (checks.empty()) {
    result.course_bug = true;
    result.summary = fmt::format(
        "no checks for {} in {} (wrong --checks folder?): this is the course's fault, not yours",
        e.name, c.checks_dir(e).string());
    return finish(result);
  }

  // One cache folder per course+checks location, exercise, source and flavor.
  const std::string place =
      fs::weakly_canonical(root).string() + "|" + fs::weakly_canonical(c.checks_root).string();
  const fs::path dir =
      fs::path(build_config::binary_dir) / "check-programs" /
      fmt::format("{:016x}", stable_hash(place)) / e.name /
      fmt::format("{}-{}", source == code_source::exercise ? "exercise" : "solution",
                  flavor == build_flavor::tsan ? "tsan" : "plain");
  fs::create_directories(dir / "checks", ec);
  if (ec) {
    result.summary = fmt::format("cannot create {}: {}", dir.string(), ec.message());
    return finish(result);
  }
  // Two labs may build the same program at once (two terminals; tests run in
  // parallel): one must not delete objects the other is linking. Hold the
  // folder's lock for the whole build; the second then finds it up to date.
  const folder_lock lock(dir);

  const std::vector<std::string> flags = compile_flags(flavor);
  const std::string flag_text = join(flags) + build_config::cxx_compiler;
  struct unit {
    fs::path source;
    fs::path object;
    bool is_student;
  };
  // Objects are named after their sources: the student's file is code.o, a
  // check file checks/NAME.cpp.o. (Numbered objects made a check file added
  // to the folder link the stale object of the file that had its number.)
  std::vector<unit> units = {{code, dir / "code.o", true}};
  for (const auto& check : checks)
    units.push_back({check, dir / "checks" / check.filename().concat(".o"), false});

  // Compile what is out of date, all at once: two files build in parallel on two cores.
  std::vector<std::pair<step, const unit*>> compiles;
  for (const auto& u : units) {
    if (up_to_date(u.object, root, flag_text)) continue;
    step s;
    s.argv = {build_config::cxx_compiler};
    s.argv.insert(s.argv.end(), flags.begin(), flags.end());
    s.argv.insert(s.argv.end(), {"-MMD", "-MF", fs::path(u.object).replace_extension(".d").string(),
                                 "-c", path_for_compiler(u.source, root), "-o", u.object.string()});
    s.log = fs::path(u.object).replace_extension(".log");
    // Only a compile that ends well makes an object up to date again.
    fs::remove(u.object, ec);
    fs::remove(fs::path(u.object).replace_extension(".flags"), ec);
    start_step(s, root);
    compiles.emplace_back(std::move(s), &u);
  }
  bool compiled = true;
  for (auto& [s, u] : compiles) {
    if (finish_step(s)) {
      std::ofstream(fs::path(u->object).replace_extension(".flags")) << flag_text;
      continue;
    }
    compiled = false;
    const std::string output = read_file(s.log);
    if (u->is_student || result.diagnostics.empty()) {
      result.diagnostics = trim_diagnostics(output);
      const int errors = count_errors(output);
      result.course_bug = !u->is_student;
      result.summary =
          u->is_student
              ? fmt::format("{} does not compile: {} error{}. Fix the first one, then run again.",
                            code_name, errors, errors == 1 ? "" : "s")
              : fmt::format(
                    "the checks for {} do not compile ({}): this is the course's fault, not yours; "
                    "tell your instructor",
                    e.name, path_for_compiler(u->source, root));
    }
  }
  if (!compiled) return finish(result);
  result.rebuilt = !compiles.empty();

  // Link when an object or a runtime library is newer than the program, or
  // the objects are not those it was linked from (a check file was removed).
  const bool tsan = flavor == build_flavor::tsan;
  const fs::path program = dir / "check";
  const std::vector<fs::path> libs = {
      tsan ? build_config::check_tsan_lib : build_config::check_lib,
      tsan ? build_config::runtime_tsan_lib : build_config::runtime_lib};
  step s;
  s.argv = {build_config::cxx_compiler, "-pthread"};
  if (tsan) s.argv.push_back("-fsanitize=thread");
  for (const auto& u : units) s.argv.push_back(u.object.string());
  for (const auto& lib : libs) s.argv.push_back(lib.string());
  s.argv.insert(s.argv.end(), {"-o", program.string()});
  s.log = dir / "link.log";
  const fs::path inputs = dir / "link.inputs";
  bool link = !fs::exists(program, ec) || result.rebuilt || read_file(inputs) != join(s.argv);
  for (const auto& lib : libs) {
    if (!fs::exists(lib, ec)) {
      result.summary = fmt::format(
          "lab's runtime library {} is missing; run bin/lab again to rebuild lab", lib.string());
      return finish(result);
    }
    if (!link && fs::last_write_time(lib, ec) > fs::last_write_time(program, ec)) link = true;
  }
  if (link) {
    fs::remove(inputs, ec);
    start_step(s, root);
    if (!finish_step(s)) {
      fs::remove(program, ec);
      const std::string output = read_file(s.log);
      result.diagnostics = trim_diagnostics(output, 3, 12);
      result.summary = explain_link_errors(output, code_name);
      if (result.summary.empty())
        result.summary = fmt::format("the check program for {} does not link", e.name);
      return finish(result);
    }
    std::ofstream(inputs) << join(s.argv);
    result.rebuilt = true;
  }
  result.ok = true;
  result.program = program;
  return finish(result);
}

}  // namespace lab
