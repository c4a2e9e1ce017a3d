// End-to-end: the green_chat stub fails each stage where its TODOs say,
// when the stages before are done as those TODOs ask
// (tests/fixtures/stub_stages/green_chat/).
#include <doctest/doctest.h>

#include <filesystem>

#include "lab_process.hpp"

namespace fs = std::filesystem;
using lab_test::run_lab;

namespace {

// A copy of the course whose exercises/green_chat.cpp is `stub` (a file of
// tests/fixtures/stub_stages/green_chat/): the course's own checks,
// solutions and lessons, by symbolic link.
fs::path course_with_stub(const std::string& stub) {
  const fs::path course = lab_test::fresh_temp_dir();
  const fs::path repository = lab_test::repository();
  fs::create_directories(course / "exercises");
  fs::copy_file(repository / "exercises/info.json", course / "exercises/info.json");
  fs::copy_file(repository / "tests/fixtures/stub_stages/green_chat" / stub,
                course / "exercises/green_chat.cpp");
  for (const char* folder : {"checks", "solutions", "lessons"})
    fs::create_directory_symlink(repository / folder, course / folder);
  return course;
}

}  // namespace

TEST_CASE("the green_chat stub fails stage 1 at its TODO with file and line") {
  const auto run = run_lab({"exercise", "green_chat", "--no-timings", "--stage", "1"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("not done yet: stage 1: join the room") != std::string::npos);
  CHECK(run.out.find("exercises/green_chat.cpp:") != std::string::npos);
}

TEST_CASE("the green_chat stub with stage 1 done fails stage 2 at its TODO") {
  const fs::path course = course_with_stub("stage_1_done.cpp");
  const auto run = run_lab(
      {"--course", course.string(), "exercise", "green_chat", "--no-timings", "--stage", "2"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("not done yet: stage 2: a member whose outbox is full") != std::string::npos);
  fs::remove_all(course);
}

TEST_CASE("the green_chat stub with stages 1 and 2 done fails stage 3 pointing to its TODO") {
  const fs::path course = course_with_stub("stage_2_done.cpp");
  const auto run = run_lab({"--course", course.string(), "exercise", "green_chat", "--no-timings",
                            "--stage", "3", "--json"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 1);
  // Stages 1 and 2 are done: of stage 3's checks, only the idle one fails.
  const auto report = lab_test::output_json(run);  // alive for the whole loop
  int failed = 0;
  for (const auto& check : report["checks"]) {
    if (check["passed"] == true) continue;
    ++failed;
    CHECK(check["name"] == "drops a client that says nothing for the idle limit");
    const std::string message = check["message"];
    CHECK(message.find("They were never dropped") != std::string::npos);
    CHECK(message.find("stage 3's TODO in handle_client") != std::string::npos);
  }
  CHECK(failed == 1);
  fs::remove_all(course);
}
