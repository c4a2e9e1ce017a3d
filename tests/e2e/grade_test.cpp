// End-to-end: lab grade, the way CI runs it.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lab_process.hpp"

using lab_test::run_lab;

TEST_CASE("grade --solutions --format junit writes well-formed XML with one test case per check") {
  const auto folder = lab_test::fresh_temp_dir();
  const auto xml = folder / "report.xml";
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "grade", "--solutions",
                            "--format", "junit", "--output", xml.string()});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  // python3's XML parser is the judge of well-formedness; it also counts the cases.
  const auto count_file = folder / "count";
  const std::string command =
      "python3 -c \"import sys, xml.etree.ElementTree as ET; "
      "root = ET.parse(sys.argv[1]).getroot(); "
      "print(len(root.findall('.//testcase')), len(root.findall('.//failure')))\" " +
      xml.string() + " > " + count_file.string();
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream counts(count_file);
  int cases = -1, failures = -1;
  counts >> cases >> failures;
  // 20 exercises x 3 checks, one more check in "fails_check", "stuck_once" and
  // "deadlock", and a ThreadSanitizer pass for "passes", "race", "lock_order"
  // and "fails_under_tsan".
  CHECK(cases == 20 * 3 + 3 + 4);
  CHECK(failures == 0);
}

// Of the solutions, which are quick to grade: the failing students' grade is
// read in the Gradescope test below, and a second one would double its time.
TEST_CASE("grade --format json is one document with a verdict per exercise") {
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "grade",
                            "--solutions", "--format", "json"});
  INFO(run.err);
  CHECK(run.exit_code == 0);
  const auto report = lab_test::output_json(run);
  CHECK(report["passed"] == true);
  REQUIRE(report["exercises"].size() == 20);
  CHECK(report["passed_count"] == 20);
  CHECK(report["failed_count"] == 0);
  for (const auto& exercise : report["exercises"]) CHECK(exercise["source"] == "solution");
}

// One grade of the fixture students serves two tests' worth of checks: the
// terminal's summary, and the Gradescope file written beside it.
TEST_CASE("grade of the fixture students fails with exit code 1 and writes gradescope results") {
  const auto folder = lab_test::fresh_temp_dir();
  const auto results = folder / "results.json";
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "grade", "--format",
                            "gradescope", "--output", results.string()});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("2 passed, 18 failed") != std::string::npos);  // the terminal still says it
  CHECK(run.out.find("timed out after 2 s") != std::string::npos);
  const auto report = nlohmann::json::parse(lab_test::read_text(results));
  const auto info = nlohmann::json::parse(
      lab_test::read_text(lab_test::fixture_course() / "exercises" / "info.json"));
  std::size_t stages = 0;
  for (const auto& exercise : info["exercises"])
    stages += exercise.contains("stages") ? exercise["stages"].size() : 1;
  REQUIRE(report["tests"].size() == stages);
  int passed = 0;
  for (const auto& test : report["tests"]) passed += test["score"].get<int>();
  CHECK(report["score"] == passed);
  CHECK(passed == 2);  // "passes" and "hangs_when_timed", each one stage
  bool named_the_wrong_sum = false, showed_the_compiler = false;
  for (const auto& test : report["tests"]) {
    const std::string output = test["output"];
    named_the_wrong_sum |= output.find("work(10, 2) == 55 is 45 == 55") != std::string::npos;
    showed_the_compiler |= output.find("compile_error.cpp:4:3: error:") != std::string::npos;
  }
  CHECK(named_the_wrong_sum);
  CHECK(showed_the_compiler);
}

namespace {

// A class of four in `dir`, from the fixture course's files: alice hands in
// two right answers, bob (a clone with exercises/) a wrong one, carol a
// symbolic link to the course's own solution, dave nothing.
void make_class(const std::filesystem::path& course, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir / "alice");
  fs::create_directories(dir / "bob" / "exercises");
  fs::create_directories(dir / "carol");
  fs::create_directories(dir / "dave");
  fs::copy_file(course / "solutions/passes.cpp", dir / "alice/passes.cpp");
  fs::copy_file(course / "solutions/fails_check.cpp", dir / "alice/fails_check.cpp");
  fs::copy_file(course / "exercises/fails_check.cpp", dir / "bob/exercises/fails_check.cpp");
  fs::create_symlink(course / "solutions/passes.cpp", dir / "carol/passes.cpp");
}

}  // namespace

TEST_CASE("grade --class grades each student's files and counts a symbolic link as nothing") {
  namespace fs = std::filesystem;
  const auto course = lab_test::fixture_course_copy();
  const auto dir = lab_test::fresh_temp_dir() / "class";
  make_class(course, dir);

  const auto run = run_lab({"--course", course.string(), "grade", "--class", dir.string(),
                            "--format", "json"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);  // a student's failure is a grade, not an error
  const auto report = lab_test::output_json(run);
  REQUIRE(report["students"].size() == 4);
  const auto exercise_of = [&](std::size_t student, const std::string& name) {
    for (const auto& entry : report["students"][student]["exercises"])
      if (entry["exercise"] == name) return entry;
    FAIL("no exercise " << name);
    return nlohmann::json();
  };
  CHECK(report["students"][0]["student"] == "alice");
  CHECK(report["students"][0]["stages_passed"] == 2);
  CHECK(exercise_of(0, "passes")["result"]["passed"] == true);
  CHECK(exercise_of(1, "fails_check")["handed_in"] == true);
  CHECK(exercise_of(1, "fails_check")["stages_passed"] == 0);
  CHECK(exercise_of(1, "passes")["handed_in"] == false);
  CHECK(exercise_of(2, "passes")["handed_in"] == false);  // the link to the solution
  CHECK(report["students"][3]["stages_passed"] == 0);
  // No student's code is left in the work folder.
  for (const auto& entry : fs::directory_iterator(course / ".lab/class/exercises"))
    CHECK(entry.path().filename() == "info.json");

  const auto csv = run_lab({"--course", course.string(), "grade", "--class", dir.string(),
                            "--format", "csv"});
  INFO(csv.out);
  CHECK(csv.out.find("student,passes,fails_check,") == 0);
  CHECK(csv.out.find("\nalice,1,1,") != std::string::npos);
  CHECK(csv.out.find("\nbob,,0,") != std::string::npos);
}

TEST_CASE("grade --class on something that is not a folder says what it wants") {
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "grade", "--class",
                            "/nonexistent/class"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("--class wants a folder with one folder per student") != std::string::npos);
}
