// End-to-end: the lessons without the REPL, and the progress they leave.
#include <doctest/doctest.h>

#include "lab_process.hpp"

using lab_test::run_lab;

TEST_CASE(
    "lab lessons lists each lesson with the slides seen and skips a broken one with its place") {
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "lessons"});
  CHECK(run.out.find("sample") != std::string::npos);
  CHECK(run.out.find("0/4") != std::string::npos);
  CHECK(run.err ==
        "warning: lessons/02-broken.md:5: a code block opened here is never closed with ``` "
        "(this lesson is skipped)\n");
  CHECK(run.exit_code == 2);  // a broken lesson is an error of the course, for CI
}

TEST_CASE("lab lesson prints one slide with --slide and records it as seen") {
  const auto state = lab_test::fresh_temp_dir();
  const std::vector<std::pair<std::string, std::string>> env = {{"LAB_STATE_DIR", state.string()}};
  const auto course = lab_test::fixture_course().string();
  const auto slide = run_lab({"--course", course, "lesson", "sample", "--slide", "3"}, env);
  CHECK(slide.exit_code == 0);
  CHECK(slide.out.find("── sample 3/4 ── A demo that is not here yet") != std::string::npos);
  CHECK(slide.out.find("coming in a later version") != std::string::npos);
  CHECK(slide.out.find("Threads take turns") == std::string::npos);
  const auto progress = run_lab({"--course", course, "progress"}, env);
  CHECK(progress.out.find("1/4 slides") != std::string::npos);
}

TEST_CASE("lab lesson refuses a slide that does not exist") {
  const auto run = run_lab(
      {"--course", lab_test::fixture_course().string(), "lesson", "sample", "--slide", "9"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("lesson sample has slides 1 to 4") != std::string::npos);
}

TEST_CASE("lab demo runs a demo in the sandbox and names the closest demo for a typo") {
  const auto good = run_lab({"demo", "primes", "stage=3", "workers=1,2", "end=2000", "repeats=1"});
  CHECK(good.exit_code == 0);
  CHECK(good.out.find("primes below 2000, stage 3") != std::string::npos);
  const auto typo = run_lab({"demo", "prime"});
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("no demo named 'prime'. Did you mean: primes?") != std::string::npos);
}

TEST_CASE("the course's lessons all load through lab lessons") {
  const auto run = run_lab({"lessons"});
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  CHECK(run.out.find("gil") != std::string::npos);
}
