// The class reports (lab grade --class), from made-up results, and how a
// student's folder is searched: nothing is built or run.
#include "class_grading.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>


namespace {

lab::course one_exercise() {
  lab::course c;
  lab::exercise primes;
  primes.name = "primes";
  primes.file = "primes.cpp";
  primes.stages = {{1, "threads"}, {2, "a pool"}};
  c.exercises = {primes};
  return c;
}

lab::exercise_result passed_stages(int passed, int of) {
  lab::exercise_result r;
  r.exercise = "primes";
  r.build.ok = true;
  for (int n = 1; n <= of; ++n) {
    lab::stage_result stage;
    stage.number = n;
    lab::check_result check;
    check.name = "works";
    check.passed = n <= passed;
    stage.checks.push_back(check);
    r.stages.push_back(stage);
  }
  return r;
}

}  // namespace

TEST_CASE("the class table has a cell per exercise and explains its marks") {
  lab::student_result ann{"ann", {passed_stages(2, 2)}};
  lab::student_result ben{"ben", {std::nullopt}};
  lab::exercise_result broken;
  broken.exercise = "primes";
  lab::student_result cy{"cy", {broken}};
  std::ostringstream out;
  lab::print_class(out, one_exercise(), {ann, ben, cy}, lab::style{});
  const std::string text = out.str();
  INFO(text);
  CHECK(text.find("ann         2/2  2/2") != std::string::npos);
  CHECK(text.find("ben           -  0/2") != std::string::npos);
  CHECK(text.find("cy         0/2!  0/2") != std::string::npos);
  CHECK(text.find("-: not handed in; !: did not compile") != std::string::npos);
  CHECK(text.find("3 students graded") != std::string::npos);
}

TEST_CASE("the class CSV quotes a name with a comma or a quote") {
  lab::student_result odd{"Smith, \"Jo\"", {passed_stages(1, 2)}};
  const std::string csv = lab::class_csv(one_exercise(), {odd});
  CHECK(csv == "student,primes,stages passed,stages\r\n\"Smith, \"\"Jo\"\"\",1,1,2\r\n");
}

TEST_CASE("a class with an undecided stage exits 4 and one with only failures exits 0") {
  lab::student_result failing{"f", {passed_stages(0, 2)}};
  CHECK(lab::exit_code_for(std::vector<lab::student_result>{failing}) == 0);
  auto busy = passed_stages(1, 2);
  busy.stages[1].checks[0].undecided = true;
  lab::student_result undecided{"u", {busy}};
  CHECK(lab::exit_code_for(std::vector<lab::student_result>{failing, undecided}) == 4);
}

TEST_CASE("a student's file is found at the top of their folder or in its exercises folder") {
  namespace fs = std::filesystem;
  std::string pattern = (fs::temp_directory_path() / "lab-class-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  const fs::path dir = pattern;
  const auto e = one_exercise().exercises[0];
  fs::create_directories(dir / "top");
  std::ofstream(dir / "top/primes.cpp") << "// mine\n";
  fs::create_directories(dir / "clone/exercises");
  std::ofstream(dir / "clone/exercises/primes.cpp") << "// mine\n";
  fs::create_directories(dir / "none");
  CHECK(lab::handed_in(dir / "top", e) == dir / "top/primes.cpp");
  CHECK(lab::handed_in(dir / "clone", e) == dir / "clone/exercises/primes.cpp");
  CHECK(lab::handed_in(dir / "none", e).empty());
  const auto found = lab::find_students(dir);
  REQUIRE(found.size() == 3);
  CHECK(found[0].filename() == "clone");
  CHECK(found[2].filename() == "top");
  fs::remove_all(dir);
}
