#include "course.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

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
  const std::string error = load_error("{\"exercises\": [\n {\"name\": \"a\",\n \"title\": 3}]}");
  CHECK(error == "exercises/info.json:2: exercise \"a\": \"title\" has the wrong type");
}

TEST_CASE("each hint has its stage and the hints of a stage come in their order") {
  const auto course = lab::load_course(course_with_info(R"({"exercises": [{"name": "a",
    "stages": [{"title": "one"}, {"title": "two"}, {"title": "three"}],
    "hints": [{"stage": 1, "text": "first of one"}, {"stage": 3, "text": "first of three"},
              {"stage": 1, "text": "second of one"}]}]})"));
  const lab::exercise& a = course.exercises.at(0);
  REQUIRE(a.hints.size() == 3);
  CHECK(a.hints[1].stage == 3);
  CHECK(a.hints[1].text == "first of three");
  CHECK(a.hints_for(1) == std::vector<std::string>{"first of one", "second of one"});
  CHECK(a.hints_for(2).empty());
  CHECK(a.hints_for(3) == std::vector<std::string>{"first of three"});
}

TEST_CASE("the course's every exercise has hints and each hint a stage of its exercise") {
  const auto course = lab::load_course(LAB_TEST_SOURCE_DIR);
  for (const auto& e : course.exercises) {
    INFO(e.name);
    CHECK_FALSE(e.hints.empty());
    CHECK_FALSE(e.hints_for(1).empty());  // a student starts at stage 1
    for (const auto& hint : e.hints) {
      CHECK(hint.stage >= 1);
      CHECK(hint.stage <= static_cast<int>(e.stages.size()));
      // The heading names the stage: the text need not say it again.
      CHECK(hint.text.find("Stage ") != 0);
    }
  }
}

TEST_CASE("a hint without a stage is refused at its line with the form to write") {
  const std::string error = load_error(
      "{\"exercises\": [{\"name\": \"a\",\n \"stages\": [{}, {}],\n \"hints\": [\n"
      "  {\"stage\": 1, \"text\": \"fine\"},\n  \"a hint as it used to be\"]}]}");
  CHECK(error ==
        "exercises/info.json:5: exercise \"a\": hint 2 has no stage; write it as {\"stage\": N, "
        "\"text\": \"...\"} with N from 1 to 2");
}

TEST_CASE("a hint for a stage the exercise does not have is refused at its line") {
  const std::string error = load_error(
      "{\"exercises\": [{\"name\": \"a\",\n \"stages\": [{}, {}],\n \"hints\": [\n"
      "  {\"stage\": 3,\n   \"text\": \"about stage three\"}]}]}");
  CHECK(error ==
        "exercises/info.json:5: exercise \"a\": hint 1: \"stage\" should be one of its stages, 1 "
        "to 2");
  CHECK(load_error(R"({"exercises": [{"name": "a", "hints": [{"stage": "1", "text": "x"}]}]})")
            .find("hint 1: \"stage\" should be one of its stages, 1 to 1") != std::string::npos);
}

TEST_CASE("a hint without text or a hints field that is not a list is refused") {
  CHECK(load_error(R"({"exercises": [{"name": "a", "hints": [{"stage": 1}]}]})") ==
        "exercises/info.json:1: exercise \"a\": hint 1 has no \"text\"");
  CHECK(load_error("{\"exercises\": [{\"name\": \"a\",\n \"hints\": 3}]}") ==
        "exercises/info.json:2: exercise \"a\": \"hints\" should be a list of {\"stage\": N, "
        "\"text\": \"...\"} with N from 1 to 1");
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

TEST_CASE("an exercise with green threads is read and one with a race check too is refused") {
  const auto course = lab::load_course(
      course_with_info(R"({"exercises": [{"name": "a"}, {"name": "b", "green_threads": true}]})"));
  CHECK_FALSE(course.find("a")->green_threads);
  CHECK(course.find("b")->green_threads);
  const std::string error = load_error(
      "{\"exercises\": [\n {\"name\": \"a\", \"green_threads\": true,\n"
      " \"race_check_stages\": [1]}]}");
  CHECK(error.find("exercises/info.json:2: exercise \"a\": \"green_threads\" and "
                   "\"race_check_stages\" do not go together") == 0);
}
