// End-to-end: lab hint on the course itself. Hints are per stage: --stage N
// picks one, and without it lab picks the stage the student is failing
// according to the progress file. Old progress files keep what they held.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "lab_process.hpp"

namespace fs = std::filesystem;
using lab_test::run_lab;

namespace {

// A progress folder of its own, holding `progress` as its progress.json.
std::vector<std::pair<std::string, std::string>> state_with(const std::string& progress) {
  const fs::path folder = lab_test::fresh_temp_dir();
  if (!progress.empty()) std::ofstream(folder / "progress.json") << progress;
  return {{"LAB_STATE_DIR", folder.string()}};
}

bool says(const lab_test::lab_run& run, const std::string& words) {
  return run.out.find(words) != std::string::npos;
}

nlohmann::json progress_of(const std::vector<std::pair<std::string, std::string>>& env) {
  return nlohmann::json::parse(lab_test::read_text(fs::path(env.front().second) / "progress.json"));
}

}  // namespace

TEST_CASE("hint --stage 3 shows the hints of stage 3 one at a time") {
  const auto env = state_with("");
  const auto first = run_lab({"hint", "primes", "--stage", "3"}, env);
  INFO(first.out, first.err);
  CHECK(first.exit_code == 0);
  CHECK(says(first,
             "Hint 1 of 2 for stage 3, fork()ed worker processes (multiprocessing.Pool):\n"
             "A child made by fork()"));
  CHECK(says(first, "`lab hint primes --stage 3` again for the next one"));
  CHECK_FALSE(says(first, "Hand the numbers out"));  // stage 1's
  const auto second = run_lab({"hint", "primes", "--stage", "3"}, env);
  CHECK(says(
      second,
      "Hint 2 of 2 for stage 3, fork()ed worker processes (multiprocessing.Pool):\nCommon bugs:"));
  CHECK(says(second, "That was the last hint of stage 3."));
  // Stage 1 is untouched by what stage 3 showed.
  const auto stage_one = run_lab({"hint", "primes", "--stage", "1"}, env);
  CHECK(says(stage_one, "Hint 1 of 1 for stage 1, std::thread workers (threading.Thread):\n"));
  const auto progress = progress_of(env);
  CHECK(progress["exercises"]["primes"]["hints_shown_by_stage"] ==
        nlohmann::json({{"1", 1}, {"3", 2}}));
  CHECK(progress["exercises"]["primes"]["hints_shown"] == 3);
}

TEST_CASE("hint without a stage shows the stage the student is failing") {
  const auto env = state_with(R"({"version": 1, "lessons": {}, "exercises": {"primes":
      {"status": "failing", "stages_passed": [1], "last_run": "2026-11-29 10:00"}}})");
  const auto run = run_lab({"hint", "primes"}, env);
  INFO(run.out, run.err);
  CHECK(says(run,
             "Stage 2 is the first stage of primes you have not passed (--stage N for "
             "another).\n"));
  CHECK(says(run, "Hint 1 of 1 for stage 2, a thread pool (multiprocessing.dummy.Pool):\n"));
  CHECK(says(run, "That was the last hint of stage 2."));
}

TEST_CASE("hint with nothing recorded shows stage 1") {
  const auto run = run_lab({"hint", "bank"}, state_with(""));
  CHECK(says(run, "No run of bank is recorded yet: hints for stage 1"));
  CHECK(says(run, "Hint 1 of 2 for stage 1, one lock for the whole bank:\n"));
}

TEST_CASE("an old progress file's hint count is kept as the first hints in course order") {
  // Written before hints had stages: primes' first two hints were seen, one
  // of stage 1 and one of stage 2.
  const auto env = state_with(R"({"version": 1, "lessons": {}, "exercises": {"primes":
      {"status": "failing", "hints_shown": 2, "stages_passed": [1, 2]}}})");
  const auto seen = run_lab({"hint", "primes", "--stage", "2", "--all"}, env);
  INFO(seen.out, seen.err);
  CHECK(says(seen,
             "Hint 1 of 1 for stage 2, a thread pool (multiprocessing.dummy.Pool):\n"
             "lab::thread_pool pool(workers)"));
  const auto next = run_lab({"hint", "primes"}, env);  // stage 3: nothing of it seen yet
  CHECK(says(next, "Hint 1 of 2 for stage 3, fork()ed worker processes (multiprocessing.Pool):\n"));
  const auto record = progress_of(env)["exercises"]["primes"];
  CHECK(record["hints_shown_by_stage"] == nlohmann::json({{"1", 1}, {"2", 1}, {"3", 1}}));
  CHECK(record["hints_shown"] == 3);
  CHECK(record["stages_passed"] == nlohmann::json({1, 2}));
}

TEST_CASE("hint for a stage the exercise does not have is a usage error") {
  const auto run = run_lab({"hint", "primes", "--stage", "4"}, state_with(""));
  CHECK(run.exit_code == 2);
  CHECK(run.err == "lab: primes has stages 1 to 3; there is no stage 4\n");
}
