#include "builder.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "course.hpp"
#include "folder_lock.hpp"
#include "lab/protocol.hpp"
#include "run.hpp"

namespace {

const char* const three_errors =
    "exercises/primes.cpp: In function 'long work(long)':\n"
    "exercises/primes.cpp:4:3: error: expected ',' or ';' before 'for'\n"
    "    4 |   for (long i = 0; i <= n; ++i) total += i;\n"
    "exercises/primes.cpp:5:10: error: 'totl' was not declared in this scope\n"
    "exercises/primes.cpp:5:10: note: suggested alternative: 'total'\n"
    "exercises/primes.cpp:9:1: error: expected declaration\n"
    "exercises/primes.cpp:12:1: error: one more\n"
    "compilation terminated.\n";

}  // namespace

TEST_CASE("errors are counted in compiler output") {
  CHECK(lab::count_errors(three_errors) == 4);
  CHECK(lab::count_errors("warning: unused\n") == 0);
}

TEST_CASE("diagnostics are trimmed to the first errors with their notes") {
  const std::string trimmed = lab::trim_diagnostics(three_errors, 2);
  CHECK(trimmed.find("primes.cpp:4:3: error") != std::string::npos);
  CHECK(trimmed.find("note: suggested alternative") != std::string::npos);
  CHECK(trimmed.find("primes.cpp:9:1") == std::string::npos);
  CHECK(trimmed.find("compilation terminated") == std::string::npos);
}

TEST_CASE("diagnostics are trimmed to at most the line limit") {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "exercises/x.cpp:1:1: note: line\n";
  const std::string trimmed = lab::trim_diagnostics(many, 3, 10);
  CHECK(std::count(trimmed.begin(), trimmed.end(), '\n') == 10);
}

TEST_CASE("a missing function at link time is explained in one line") {
  const std::string output =
      "/usr/bin/ld: check0.o: in function `x':\ncheck.cpp:30: undefined reference to "
      "`calc_primes_pool(long, int)'\ncollect2: error: ld returned 1 exit status\n";
  CHECK(lab::explain_link_errors(output, "exercises/primes.cpp") ==
        "the checks call calc_primes_pool(long, int), which exercises/primes.cpp does not define "
        "(renamed it, or changed its parameters?)");
  CHECK(lab::explain_link_errors("collect2: error", "x.cpp").empty());
}

// --- building real check programs -------------------------------------------

namespace {

namespace fs = std::filesystem;
namespace p = lab::protocol;

// A course of one exercise, "adder", in a fresh folder, whose check files
// each hold one check named after the file. Removed, with the check
// programs built from it, at the end.
struct adder_course {
  fs::path root;
  fs::path built;  // the exercise's folder of check programs, once known

  adder_course() {
    std::string pattern = (fs::temp_directory_path() / "lab-builder-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    root = pattern;
    fs::create_directories(root / "exercises");
    fs::create_directories(root / "checks" / "adder");
    std::ofstream(root / "exercises" / "info.json")
        << R"({"exercises": [{"name": "adder", "file": "adder.cpp",
              "stages": [{"title": "adds"}], "race_check_stages": [1]}]})";
    std::ofstream(root / "exercises" / "adder.cpp") << "int add(int a, int b) { return a + b; }\n";
  }
  ~adder_course() {
    std::error_code ec;
    fs::remove_all(root, ec);
    if (!built.empty()) fs::remove_all(built, ec);
  }

  void add_check_file(const std::string& name) {
    std::ofstream(root / "checks" / "adder" / (name + ".cpp"))
        << "#include <lab/check.hpp>\nint add(int a, int b);\nTEST_CASE(\"" << name
        << " is checked\") { CHECK(add(1, 2) == 3); }\n";
  }

  std::vector<lab::build_result> build(const std::vector<lab::build_flavor>& flavors,
                                       const lab::build_notice& notice = {}) {
    const lab::course c = lab::load_course(root);
    auto results = lab::build_check_programs(c, c.exercises.front(), lab::code_source::exercise,
                                             flavors, notice);
    for (const auto& result : results)
      if (result.ok) built = result.program.parent_path().parent_path();
    return results;
  }
  lab::build_result build() { return build({lab::build_flavor::plain}).front(); }
};

// The names of the checks in a check program, as the driver asks for them,
// sorted and joined with " | ".
std::string checks_in(const fs::path& program) {
  lab::run_spec spec;
  spec.argv = {program.string(), "--list-test-cases"};
  spec.profile = lab::profiles::query();
  spec.env = {{p::env::check_mode, p::mode_checks}, {p::env::check_stage, "1"}};
  const auto run = lab::run_in_box(spec);
  const auto* list = run.first<p::check_list>();
  REQUIRE_MESSAGE(list != nullptr, run.stop_reason(), run.err);
  auto names = list->checks;
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : " | ") + name;
  return joined;
}

}  // namespace

TEST_CASE("a check file added between two others is compiled and linked into the program") {
  adder_course course;
  course.add_check_file("a");
  course.add_check_file("c");
  const auto first = course.build();
  REQUIRE_MESSAGE(first.ok, first.summary, first.diagnostics);
  CHECK(checks_in(first.program) == "a is checked | c is checked");
  // b sorts between a and c: it takes the place c had in the list of files.
  course.add_check_file("b");
  const auto second = course.build();
  REQUIRE_MESSAGE(second.ok, second.summary, second.diagnostics);
  CHECK(checks_in(second.program) == "a is checked | b is checked | c is checked");
}

TEST_CASE("a check file removed from the folder is no longer linked into the program") {
  adder_course course;
  course.add_check_file("a");
  course.add_check_file("b");
  REQUIRE(course.build().ok);
  fs::remove(course.root / "checks" / "adder" / "b.cpp");
  const auto again = course.build();
  REQUIRE_MESSAGE(again.ok, again.summary, again.diagnostics);
  CHECK(checks_in(again.program) == "a is checked");
}

TEST_CASE("a second build with nothing changed compiles and links nothing") {
  adder_course course;
  course.add_check_file("a");
  const auto first = course.build();
  REQUIRE(first.ok);
  CHECK(first.rebuilt);
  const auto second = course.build();
  REQUIRE(second.ok);
  CHECK_FALSE(second.rebuilt);
  CHECK(second.program == first.program);
}

TEST_CASE("the plain and ThreadSanitizer programs are built in one call with the same checks") {
  adder_course course;
  course.add_check_file("a");
  const auto results = course.build({lab::build_flavor::plain, lab::build_flavor::tsan});
  REQUIRE(results.size() == 2);
  for (const auto& result : results) {
    REQUIRE_MESSAGE(result.ok, result.summary, result.diagnostics);
    CHECK(result.rebuilt);
    CHECK(checks_in(result.program) == "a is checked");
  }
  CHECK(results[0].program != results[1].program);
  CHECK(results[1].program.parent_path().filename() == "exercise-tsan");
}

TEST_CASE("a compile error in the student's file fails every flavor with the student's errors") {
  adder_course course;
  course.add_check_file("a");
  std::ofstream(course.root / "exercises" / "adder.cpp")
      << "int add(int a, int b) { return a + ; }\n";
  const auto results = course.build({lab::build_flavor::plain, lab::build_flavor::tsan});
  REQUIRE(results.size() == 2);
  for (const auto& result : results) {
    CHECK_FALSE(result.ok);
    CHECK_FALSE(result.course_bug);
    CHECK(result.summary ==
          "exercises/adder.cpp does not compile: 1 error. Fix the first one, then run again.");
    CHECK(result.diagnostics.find("exercises/adder.cpp:1:") != std::string::npos);
  }
}

TEST_CASE("a build that must wait for another lab's build of the same program says so first") {
  using namespace std::chrono_literals;
  adder_course course;
  course.add_check_file("a");
  const auto first = course.build();
  REQUIRE(first.ok);
  // Another lab holds the program's folder, as it does while it builds there.
  std::optional<lab::folder_lock> other(std::in_place, first.program.parent_path());
  std::atomic<bool> told{false};
  std::string notice;
  lab::build_result second;
  std::thread build([&] {
    second = course
                 .build({lab::build_flavor::plain},
                        [&](const std::string& message) {
                          notice = message;
                          told = true;
                        })
                 .front();
  });
  // Told at once in a working lab; the bound keeps a silent one from hanging.
  for (int i = 0; i < 12000 && !told.load(); ++i) std::this_thread::sleep_for(10ms);
  other.reset();
  build.join();
  CHECK(told.load());
  CHECK(notice == "waiting for another lab's build of the same check program (adder, plain)");
  CHECK(second.ok);
}

namespace {

// Student code that runs a greenlet with patching on: it links only with the
// green library and its patch.
const char* const green_adder =
    "#include <lab/green.hpp>\n#include <lab/green_patch.hpp>\n"
    "int add(int a, int b) {\n  lab::green::patch_all();\n"
    "  const int sum = lab::green::spawn([a, b] { return a + b; }).get();\n"
    "  lab::green::unpatch_all();\n  return sum;\n}\n";

void write_adder_info(adder_course& course, bool green_threads) {
  std::ofstream(course.root / "exercises" / "info.json")
      << R"({"exercises": [{"name": "adder", "file": "adder.cpp", "stages": [{"title": "adds"}])"
      << (green_threads ? R"(, "green_threads": true)" : "") << "}]}";
  std::ofstream(course.root / "exercises" / "adder.cpp") << green_adder;
}

}  // namespace

TEST_CASE("an exercise with green threads links the green library and its patch") {
  adder_course course;
  course.add_check_file("a");
  write_adder_info(course, true);
  const auto result = course.build();
  REQUIRE_MESSAGE(result.ok, result.summary, result.diagnostics);
  CHECK(checks_in(result.program) == "a is checked");
}

TEST_CASE("an exercise without green threads does not link the green library") {
  adder_course course;
  course.add_check_file("a");
  write_adder_info(course, false);
  const auto result = course.build();
  CHECK_FALSE(result.ok);
  INFO(result.summary);
  CHECK(result.summary.find("lab::green") != std::string::npos);
}
