// End-to-end: lab list on the course itself, and lab progress.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "lab_process.hpp"

using lab_test::run_lab;

TEST_CASE("lab list lines its columns up whatever the length of a lesson name") {
  const auto state = lab_test::fresh_temp_dir();
  const auto list = run_lab({"list"}, {{"LAB_STATE_DIR", state.string()}});
  REQUIRE(list.exit_code == 0);
  std::istringstream lines(list.out);
  std::string header;
  std::getline(lines, header);
  const auto stages_end = header.find("stages") + std::string("stages").size();
  std::string row;
  int rows = 0;
  while (std::getline(lines, row) && row.find("Run one with") == std::string::npos) {
    INFO(row);
    // The stage count is right-aligned under "stages", followed by two spaces.
    REQUIRE(row.size() > stages_end + 2);
    CHECK(std::isdigit(static_cast<unsigned char>(row[stages_end - 1])));
    CHECK(row.substr(stages_end, 2) == "  ");
    ++rows;
  }
  CHECK(rows >= 5);
}

TEST_CASE("lab progress lines its statuses up whatever the length of an exercise name") {
  // The fixture course, with one more exercise whose name is longer than
  // any column a fixed width would have given it.
  const auto course = lab_test::fixture_course_copy();
  const auto info_path = course / "exercises" / "info.json";
  auto info = nlohmann::json::parse(lab_test::read_text(info_path));
  const std::string long_name = "an_exercise_with_a_rather_long_name";
  info["exercises"].push_back({{"name", long_name},
                               {"title", "A long name"},
                               {"file", "passes.cpp"},
                               {"limits", {{"timeout_seconds", 10}}}});
  std::ofstream(info_path) << info.dump(2);

  const auto state = lab_test::fresh_temp_dir();
  const auto run =
      run_lab({"--course", course.string(), "progress"}, {{"LAB_STATE_DIR", state.string()}});
  INFO(run.out, run.err);
  REQUIRE(run.exit_code == 0);
  std::istringstream lines(run.out);
  std::string row;
  std::size_t status_column = std::string::npos;
  int rows = 0;
  bool long_row = false;
  while (std::getline(lines, row)) {
    const auto at = row.find("not started");
    if (at == std::string::npos) continue;
    INFO(row);
    if (status_column == std::string::npos) status_column = at;
    CHECK(at == status_column);
    CHECK(row[at - 1] == ' ');
    long_row = long_row || row.find(long_name) != std::string::npos;
    ++rows;
  }
  CHECK(long_row);
  CHECK(rows == static_cast<int>(info["exercises"].size()));
}
