// The course's own content is consistent: every lesson parses, every demo a
// lesson names exists (or is marked coming), every exercise a lesson points
// to exists (or is marked coming).
#include <doctest/doctest.h>

#include <algorithm>

#include "course.hpp"
#include "demo_run.hpp"
#include "lesson.hpp"

namespace {

const lab::lesson_set& course_lessons() {
  static const lab::lesson_set set =
      lab::load_lessons(std::filesystem::path(LAB_TEST_SOURCE_DIR) / "lessons");
  return set;
}

}  // namespace

TEST_CASE("every lesson file in lessons/ parses") {
  for (const auto& error : course_lessons().errors) FAIL_CHECK(error);
  CHECK(course_lessons().lessons.size() >= 10);
}

TEST_CASE("every lesson ends with its questions") {
  for (const auto& l : course_lessons().lessons) {
    INFO("lesson ", l.key);
    CHECK(l.slides.back().title == "Questions");
  }
}

TEST_CASE("every demo a lesson runs exists and every demo marked coming does not yet") {
  const auto demos = lab::available_demos();
  REQUIRE_FALSE(demos.empty());
  for (const auto& l : course_lessons().lessons) {
    for (const auto& s : l.slides) {
      if (!s.demo) continue;
      INFO(l.file.filename().string(), ":", s.demo->line, ": demo ", s.demo->name);
      const bool exists = lab::find_demo(demos, s.demo->name) != nullptr;
      CHECK(exists != s.demo->coming);
    }
  }
}

TEST_CASE("every exercise a lesson points to exists unless it is marked coming") {
  const auto course = lab::load_course(LAB_TEST_SOURCE_DIR);
  for (const auto& l : course_lessons().lessons) {
    for (const auto& s : l.slides) {
      if (!s.exercise) continue;
      INFO(l.file.filename().string(), ":", s.exercise->line, ": exercise ", s.exercise->name);
      CHECK((course.find(s.exercise->name) != nullptr) != s.exercise->coming);
    }
  }
}

TEST_CASE("every exercise names a lesson that exists") {
  const auto course = lab::load_course(LAB_TEST_SOURCE_DIR);
  for (const auto& e : course.exercises) {
    INFO("exercise ", e.name, " names lesson ", e.lesson);
    CHECK(course_lessons().find(e.lesson) != nullptr);
  }
}
