#include "course.hpp"

#include <doctest/doctest.h>

#include <fstream>

namespace fs = std::filesystem;

namespace {

// A course folder whose exercises/info.json holds `text`.
fs::path course_with_info(const std::string& text) {
  std::string pattern = (fs::temp_directory_path() / "lab-course-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  fs::create_directories(fs::path(pattern) / "exercises");
  std::ofstream(fs::path(pattern) / "exercises" / "info.json") << text;
  return pattern;
}

std::string load_error(const std::string& text) {
  try {
    lab::load_course(course_with_info(text));
  } catch (const lab::course_error& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the repository's course loads with the primes exercise and its three stages") {
  const auto course = lab::load_course(LAB_TEST_SOURCE_DIR);
  const lab::exercise* primes = course.find("primes");
  REQUIRE(primes != nullptr);
  CHECK(primes->stages.size() == 3);
  CHECK(primes->lesson == "gil");
  CHECK(primes->hints.size() >= 3);
  REQUIRE(primes->timing.has_value());
  CHECK(primes->timing->workers == std::vector<int>{1, 5});
  CHECK(course.exercise_file(*primes) ==
        fs::path(LAB_TEST_SOURCE_DIR) / "exercises" / "primes.cpp");
  CHECK(course.checks_dir(*primes) == fs::path(LAB_TEST_SOURCE_DIR) / "checks" / "primes");
}

TEST_CASE("a syntax error in info.json is reported with its line") {
  const std::string error = load_error("{\n  \"exercises\": [\n    { \"name\": \"a\", }\n  ]\n}\n");
  INFO(error);
  CHECK(error.find("exercises/info.json:3: not valid JSON") == 0);
}

TEST_CASE("a field of the wrong type names the exercise and the field and the line") {
  const std::string error = load_error("{\"exercises\": [\n {\"name\": \"a\",\n \"hints\": 3}]}");
  CHECK(error == "exercises/info.json:2: exercise \"a\": \"hints\" has the wrong type");
}

TEST_CASE("two exercises with one name are refused") {
  const std::string error = load_error(R"({"exercises": [{"name": "a"}, {"name": "a"}]})");
  CHECK(error.find("two exercises are named a") != std::string::npos);
}

TEST_CASE("a folder without info.json is not taken for a course") {
  std::string pattern = (fs::temp_directory_path() / "lab-empty-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  CHECK_THROWS_WITH_AS(lab::load_course(pattern), doctest::Contains("is it a lab course folder"),
                       lab::course_error);
}

TEST_CASE("--checks moves where the checks are looked for") {
  const auto course = lab::load_course(LAB_TEST_SOURCE_DIR, "/somewhere/private");
  CHECK(course.checks_dir(*course.find("primes")) == fs::path("/somewhere/private/primes"));
}
