// The course's checks catch the mistakes students make: every wrong
// submission in tests/fixtures/submissions/<exercise>/ must fail, with a
// message that names its mistake (see the README there), and no message may
// show a pointer's address where words were meant (doctest streams a
// `const char*` as one: "tested by 1 0x55f1... for workers = 4").
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "lab_process.hpp"

namespace fs = std::filesystem;
using lab_test::run_lab;

namespace {

struct submission {
  fs::path file;
  std::string mistake;
  std::string expect;
  std::optional<int> stage;
};

// The header lines of one submission.
submission read_submission(const fs::path& file) {
  submission s{file, "", "", std::nullopt};
  std::ifstream in(file);
  const std::regex header(R"(^// (Mistake|Expect|Stage): (.*)$)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch match;
    if (!std::regex_match(line, match, header)) continue;
    if (match[1] == "Mistake") s.mistake = match[2];
    if (match[1] == "Expect") s.expect = match[2];
    if (match[1] == "Stage") s.stage = std::stoi(match[2]);
  }
  return s;
}

std::vector<submission> submissions_for(const std::string& exercise) {
  std::vector<submission> found;
  const fs::path folder = lab_test::repository() / "tests/fixtures/submissions" / exercise;
  if (!fs::exists(folder)) return found;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.path().extension() == ".cpp") found.push_back(read_submission(entry.path()));
  std::sort(found.begin(), found.end(),
            [](const submission& a, const submission& b) { return a.file < b.file; });
  return found;
}

// The exercise's file name in exercises/ (from info.json).
std::string file_of(const std::string& exercise) {
  std::ifstream info(lab_test::repository() / "exercises/info.json");
  const auto course = nlohmann::json::parse(info);  // alive for the whole loop
  for (const auto& entry : course["exercises"])
    if (entry["name"] == exercise) return entry.value("file", exercise + ".cpp");
  FAIL("no exercise " << exercise);
  return "";
}

// A copy of the course for wrong submissions: the course's
// own checks, solutions and lessons, by symbolic link. One copy serves every
// submission in turn (`submit` puts one in place), so lab compiles the checks
// once and each submission's own file alone after that, as after a student's
// edit: a new course folder would compile the checks anew for each one.
fs::path course_for() {
  const fs::path course = lab_test::fresh_temp_dir();
  const fs::path repository = lab_test::repository();
  fs::create_directories(course / "exercises");
  fs::copy_file(repository / "exercises/info.json", course / "exercises/info.json");
  for (const char* folder : {"checks", "solutions", "lessons"})
    fs::create_directory_symlink(repository / folder, course / folder);
  return course;
}

// Makes `s` the student's file of `exercise` in `course` (a fresh write, so
// it is newer than the object compiled from the submission before).
void submit(const fs::path& course, const std::string& exercise, const submission& s) {
  fs::copy_file(s.file, course / "exercises" / file_of(exercise),
                fs::copy_options::overwrite_existing);
}

bool some_check_says(const nlohmann::json& report, const std::string& text) {
  for (const auto& check : report["checks"])
    if (!check["passed"].get<bool>() &&
        check["message"].get<std::string>().find(text) != std::string::npos)
      return true;
  return false;
}

// What lab and the checks said in a report: the report without what the
// program printed (its own words, where an address may be meant).
std::string said_by_lab(nlohmann::json report) {
  const auto drop_program_output = [](nlohmann::json& checks) {
    for (auto& check : checks)
      for (const char* own : {"output", "stdout", "stderr"}) check.erase(own);
  };
  drop_program_output(report["checks"]);
  for (auto& stage : report["stages"]) drop_program_output(stage["checks"]);
  return report.dump();
}

// Every submission of `exercise` fails, some failing check names its
// mistake, and no message shows a pointer's address where words were meant.
void every_submission_fails(const std::string& exercise, std::size_t at_least) {
  const auto all = submissions_for(exercise);
  CHECK(all.size() >= at_least);
  const fs::path course = course_for();
  for (const auto& s : all) {
    INFO(s.file.filename().string(), ": ", s.mistake);
    REQUIRE_FALSE(s.mistake.empty());
    REQUIRE_FALSE(s.expect.empty());
    submit(course, exercise, s);
    std::vector<std::string> args = {"--course", course.string(), "exercise", exercise,
                                     "--no-timings", "--json"};
    if (s.stage) {
      args.push_back("--stage");
      args.push_back(std::to_string(*s.stage));
    }
    const auto run = run_lab(args);
    INFO(run.out, run.err);
    CHECK(run.exit_code == 1);
    const auto report = lab_test::output_json(run);
    CHECK(report["build"]["ok"] == true);  // a wrong answer, not a compile error
    // Its own code, not the object of the submission before.
    CHECK(report["build"]["rebuilt"] == true);
    CHECK(report["passed"] == false);
    CHECK_MESSAGE(some_check_says(report, s.expect), "no failing check says \"", s.expect, "\"");
    const std::string address = lab_test::first_address(said_by_lab(report) + run.err);
    CHECK_MESSAGE(address.empty(), "a message shows the address ", address);
  }
  fs::remove_all(course);
}

}  // namespace

TEST_CASE("every wrong primes submission fails and names its mistake") {
  every_submission_fails("primes", 1);
}

TEST_CASE("every wrong counter submission fails and names its mistake") {
  every_submission_fails("counter", 1);
}

TEST_CASE("every wrong gil submission fails and names its mistake") {
  every_submission_fails("gil", 1);
}

TEST_CASE("every wrong bank submission fails and names its mistake") {
  every_submission_fails("bank", 1);
}

TEST_CASE("every wrong fib_dispatch submission fails and names its mistake") {
  every_submission_fails("fib_dispatch", 1);
}

TEST_CASE("every wrong generator submission fails and names its mistake") {
  every_submission_fails("generator", 1);
}

TEST_CASE("every wrong counting_server submission fails and names its mistake") {
  every_submission_fails("counting_server", 5);
}

TEST_CASE("every wrong echo_server submission fails and names its mistake") {
  every_submission_fails("echo_server", 1);
}

TEST_CASE("every wrong scheduler submission fails and names its mistake") {
  every_submission_fails("scheduler", 6);
}

TEST_CASE("every wrong green_chat submission fails and names its mistake") {
  every_submission_fails("green_chat", 8);
}
