// End-to-end: lab grade, the way CI runs it.
#include <doctest/doctest.h>

#include <cstdlib>
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

TEST_CASE("grade of the fixture students fails with exit code 1 and names each failure") {
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "grade"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("2 passed, 18 failed") != std::string::npos);
  CHECK(run.out.find("timed out after 2 s") != std::string::npos);
}

TEST_CASE("grade --format json is one document with a verdict per exercise") {
  const auto run =
      run_lab({"--course", lab_test::fixture_course().string(), "grade", "--format", "json"});
  const auto report = lab_test::output_json(run);
  CHECK(report["passed"] == false);
  CHECK(report["exercises"].size() == 20);
  CHECK(report["passed_count"] == 2);
}
