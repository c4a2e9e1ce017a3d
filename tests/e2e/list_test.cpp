// End-to-end: lab list, on the course itself.
#include <doctest/doctest.h>

#include <cctype>
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
