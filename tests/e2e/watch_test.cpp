// End-to-end: lab exercise NAME --watch checks again after every save, the
// way editors save (a rename over the file, or a plain write), until Ctrl-C.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "lab_process.hpp"
#include "serving_lab.hpp"

namespace fs = std::filesystem;

namespace {

// Saves `text` as vim does: a new file, renamed over the old one.
void save_by_rename(const fs::path& file, const std::string& text) {
  const auto temporary = file.parent_path() / ".save-in-progress";
  std::ofstream(temporary) << text;
  fs::rename(temporary, file);
}

}  // namespace

TEST_CASE("exercise --watch checks again after each save and stops at Ctrl-C") {
  const auto course = lab_test::fixture_course_copy();
  const auto file = course / "exercises" / "fails_check.cpp";
  const std::string wrong = lab_test::read_text(file);
  const std::string right = lab_test::read_text(course / "solutions" / "fails_check.cpp");
  lab_test::background_lab lab(
      {"--course", course.string(), "exercise", "fails_check", "--watch", "--no-timings"});
  const std::string watching = "Watching exercises/fails_check.cpp";

  REQUIRE(lab.wait_for(watching, 1));
  CHECK(lab.output.find("0 of 1 stage pass") != std::string::npos);

  save_by_rename(file, right);
  REQUIRE(lab.wait_for(watching, 2));
  CHECK(lab.output.find("exercises/fails_check.cpp saved: checking again") != std::string::npos);
  CHECK(lab.output.find("All 1 stage of fails_check pass") != std::string::npos);

  std::ofstream(file) << wrong;  // a plain write, as most editors do
  REQUIRE(lab.wait_for(watching, 3));
  const auto last_run = lab.output.rfind("saved: checking again");
  CHECK(lab.output.find("0 of 1 stage pass", last_run) != std::string::npos);

  lab.interrupt();
  const int code = lab.wait();
  INFO(lab.output);
  CHECK(code == 130);  // stopped by Ctrl-C, as any command Ctrl-C stops
  CHECK(lab_test::processes_left_behind("fails_check").empty());
}

TEST_CASE("a save of another file in the folder does not start a run") {
  const auto course = lab_test::fixture_course_copy();
  lab_test::background_lab lab(
      {"--course", course.string(), "exercise", "passes", "--watch", "--no-timings"});
  REQUIRE(lab.wait_for("Watching exercises/passes.cpp", 1));
  std::ofstream(course / "exercises" / "fails_check.cpp") << "// edited\n";
  // Then a save of the watched file: exactly one run follows, not two.
  std::ofstream(course / "exercises" / "passes.cpp")
      << lab_test::read_text(course / "solutions" / "passes.cpp");
  REQUIRE(lab.wait_for("Watching exercises/passes.cpp", 2));
  lab.interrupt();
  CHECK(lab.wait() == 130);
  std::size_t runs = 0;
  for (auto at = lab.output.find("saved: checking again"); at != std::string::npos;
       at = lab.output.find("saved: checking again", at + 1))
    ++runs;
  INFO(lab.output);
  CHECK(runs == 1);
}

TEST_CASE("--watch and --json do not go together") {
  const auto run = lab_test::run_lab({"--course", lab_test::fixture_course().string(), "exercise",
                                      "passes", "--watch", "--json"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("excludes") != std::string::npos);
}
