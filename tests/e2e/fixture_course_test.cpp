// End-to-end: the real lab binary against the fixture course, whose
// "students" misbehave in every way the runner must survive. Each gets its
// own clear verdict, in bounded time, with nothing left running.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "lab_process.hpp"

using lab_test::run_lab;

namespace {

lab_test::lab_run run_fixture(const std::string& exercise, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--course", lab_test::fixture_course().string(), "exercise",
                                   exercise, "--no-timings"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto run = run_lab(args);
  // The fixture students print no addresses of their own: one in the
  // output is lab's or a check's message showing a pointer for words.
  const std::string address = lab_test::first_address(run.out + run.err);
  CHECK_MESSAGE(address.empty(), "lab printed the address ", address, " for ", exercise);
  return run;
}

// True if some check of the JSON report failed with a message containing `text`.
bool some_check_says(const nlohmann::json& report, const std::string& text) {
  for (const auto& check : report["checks"])
    if (!check["passed"].get<bool>() &&
        check["message"].get<std::string>().find(text) != std::string::npos)
      return true;
  return false;
}

// A file holding `lines`, for a REPL's standard input (LAB_STDIN).
std::string script(const std::string& lines) {
  const auto file = lab_test::fresh_temp_dir() / "script";
  std::ofstream(file) << lines;
  return file.string();
}

bool nothing_left_of(const std::string& exercise) {
  return lab_test::processes_left_behind("/" + exercise + "/exercise-plain/check").empty();
}

}  // namespace

TEST_CASE("student code that passes gets a pass and exit code 0") {
  const auto run = run_fixture("passes", {"--json"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
  const auto report = lab_test::output_json(run);
  CHECK(report["passed"] == true);
  CHECK(report["checks"].size() == 4);  // three checks and the ThreadSanitizer pass
}

TEST_CASE("a wrong answer fails its check with the values compared") {
  const auto run = run_fixture("fails_check", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(some_check_says(report, "work(10, 2) == 55 is 45 == 55"));
}

TEST_CASE("a failed check with its own message shows the message without the bare false") {
  const auto run = run_fixture("fails_check", {"--json"});
  const auto report = lab_test::output_json(run);
  bool seen = false;
  for (const auto& check : report["checks"])
    if (check["name"] == "says in its own words what a wrong sum means") {
      seen = true;
      CHECK(check["passed"] == false);
      CHECK(check["message"] == "1 + 2 + 3 + 4 should be 10");
    }
  CHECK(seen);
}

TEST_CASE("an untouched stub reports its TODO with file and line") {
  const auto run = run_fixture("todo");
  INFO(run.out);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("not done yet: sum the numbers up to n (exercises/todo.cpp:5)") !=
        std::string::npos);
}

TEST_CASE("a compile error shows the compiler's first errors with file:line and a summary") {
  const auto run = run_fixture("compile_error");
  INFO(run.out);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("exercises/compile_error.cpp does not compile") != std::string::npos);
  CHECK(run.out.find("exercises/compile_error.cpp:4:") != std::string::npos);
  CHECK(run.out.find("CMake") == std::string::npos);
  CHECK(run.out.find("ninja") == std::string::npos);
}

// One run for both points: two runs of this fixture at once (ctest -j) would
// see each other's programs in nothing_left_of.
TEST_CASE("a deadlock times out with a hint and after three timeouts the rest are not run") {
  const auto run = run_fixture("deadlock", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  std::vector<std::string> messages;
  for (const auto& check : report["checks"]) messages.push_back(check["message"]);
  const std::string timed_out =
      "timed out after 2 s: every thread was blocked, waiting for something that never came (a "
      "deadlock, or a wait nobody ends)";
  CHECK(messages == std::vector<std::string>{
                        timed_out, timed_out, timed_out,
                        "not run: 3 checks of this stage timed out already; fix those first"});
  CHECK(nothing_left_of("deadlock"));
  MESSAGE("deadlock verdict after ", run.seconds, " s");
}

TEST_CASE("a crash is reported with the signal's name on the check that crashed") {
  const auto run = run_fixture("crash", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  REQUIRE(report["checks"].size() == 3);
  // The fixture crashes in every check, so each one says so itself.
  for (const auto& check : report["checks"]) {
    INFO(check["name"]);
    CHECK(check["passed"] == false);
    CHECK(check["message"] == "crashed: SIGSEGV (segmentation fault)");
  }
  CHECK(nothing_left_of("crash"));
}

TEST_CASE("a check that hangs or crashes fails alone and the checks after it still run") {
  const auto run = run_fixture("stuck_once", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  std::vector<std::pair<std::string, std::string>> verdicts;  // name, then "pass" or the message
  for (const auto& check : report["checks"])
    verdicts.emplace_back(check["name"], check["passed"].get<bool>()
                                             ? std::string("pass")
                                             : check["message"].get<std::string>());
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"sums the numbers up to 10", "pass"},
      {"sums the numbers up to 1000",
       "timed out after 2 s: every thread was blocked, waiting for something that never came (a "
       "deadlock, or a wait nobody ends)"},
      {"sums nothing for 0", "crashed: SIGSEGV (segmentation fault)"},
      {"sums the numbers up to 5", "pass"}};
  CHECK(verdicts == expected);
  CHECK(nothing_left_of("stuck_once"));
  MESSAGE("stuck_once verdict after ", run.seconds, " s");
}

TEST_CASE("a flood of output neither hangs lab nor fills its memory") {
  const auto run = run_fixture("flood", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(some_check_says(report, "timed out after 3 s: it kept writing output without finishing"));
  CHECK(run.out.size() < 1'000'000);  // the flood itself never reaches lab's output
  // What was kept is the first check's, and it says that more was dropped.
  const auto& first = report["checks"][0];
  CHECK(first["stdout"].get<std::string>().starts_with("flooding the terminal, line 0\n"));
  CHECK(first["output_complete"] == false);
  CHECK(nothing_left_of("flood"));
}

TEST_CASE("a fork bomb is contained and leaves no process behind") {
  const auto run = run_fixture("fork_bomb", {"--json"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 1);
  // As root with a pids cgroup, the kernel counts the refused forks.
  const bool counted = geteuid() == 0 &&
                       (std::filesystem::exists("/sys/fs/cgroup/pids/cgroup.procs") ||
                        lab_test::read_text("/sys/fs/cgroup/cgroup.controllers").find("pids") !=
                            std::string::npos);
  if (counted)
    CHECK(some_check_says(lab_test::output_json(run), "hit the limit of 40 processes and threads"));
  CHECK(nothing_left_of("fork_bomb"));
  MESSAGE("fork bomb verdict after ", run.seconds, " s");
}

TEST_CASE("a data race that gives the right answer is caught by ThreadSanitizer") {
  const auto run = run_fixture("race", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(some_check_says(report, "ThreadSanitizer: data race"));
  CHECK(some_check_says(report, "exercises/race.cpp:"));
}

TEST_CASE("a lock-order inversion fails the race check and says why it matters without a deadlock") {
  const auto run = run_fixture("lock_order", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(some_check_says(report, "ThreadSanitizer: lock-order-inversion"));
  CHECK(some_check_says(report, "exercises/lock_order.cpp:"));
  CHECK(some_check_says(report, "even if nothing deadlocked in this run"));
  CHECK(some_check_says(report, "Take locks in one fixed order"));
}

TEST_CASE("a run whose checks fail only under ThreadSanitizer is not called race-free") {
  const auto run = run_fixture("fails_under_tsan", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(some_check_says(report, "under ThreadSanitizer \"sums the numbers up to 10\" failed"));
  CHECK_FALSE(some_check_says(report, "ThreadSanitizer: data race"));
}

TEST_CASE("a fixture solution passes through --checks pointing at the checks folder") {
  const auto checks = (lab_test::fixture_course() / "checks").string();
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "--checks", checks,
                            "solution", "deadlock", "--no-timings"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 0);
}

TEST_CASE("--checks pointing at a folder without the exercise's checks says so") {
  const auto empty = lab_test::fresh_temp_dir();
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "--checks",
                            empty.string(), "exercise", "passes"});
  CHECK(run.exit_code == 3);  // not the student's fault
  CHECK(run.out.find("no checks for passes") != std::string::npos);
}

TEST_CASE("timings are reported as medians with a speedup against one worker") {
  const auto run = run_lab({"--course", lab_test::fixture_course().string(), "solution", "passes",
                            "--json", "--workers", "1,2"});
  const auto report = lab_test::output_json(run);
  REQUIRE(report["timings"].size() == 2);
  for (const auto& timing : report["timings"]) {
    CHECK(timing["samples_s"].size() == 3);
    CHECK(timing["median_s"].get<double>() > 0);
    CHECK(timing["speedup"].get<double>() > 0);
  }
}

TEST_CASE("hints come one at a time and the count is remembered") {
  const auto state = lab_test::fresh_temp_dir();
  const std::vector<std::pair<std::string, std::string>> env = {{"LAB_STATE_DIR", state.string()}};
  const std::vector<std::string> args = {"--course", lab_test::fixture_course().string(), "hint",
                                         "passes"};
  const auto first = run_lab(args, env);
  CHECK(first.out.find("Hint 1 of 2:\nfirst hint") != std::string::npos);
  const auto second = run_lab(args, env);
  CHECK(second.out.find("Hint 2 of 2:\nsecond hint") != std::string::npos);
  CHECK(second.out.find("first hint") == std::string::npos);
  const auto again = run_lab(args, env);
  CHECK(again.out.find("Hint 2 of 2") != std::string::npos);
  CHECK(again.out.find("last hint") != std::string::npos);
}

TEST_CASE("lab list shows each exercise's status from the progress file") {
  const auto state = lab_test::fresh_temp_dir();
  const std::vector<std::pair<std::string, std::string>> env = {{"LAB_STATE_DIR", state.string()}};
  const auto course = lab_test::fixture_course().string();
  run_lab({"--course", course, "exercise", "passes", "--no-timings"}, env);
  run_lab({"--course", course, "exercise", "fails_check", "--no-timings"}, env);
  const auto list = run_lab({"--course", course, "list"}, env);
  INFO(list.out);
  CHECK(list.out.find("passes") != std::string::npos);
  CHECK(list.out.find("done") != std::string::npos);
  CHECK(list.out.find("failing (0/1 stages pass)") != std::string::npos);
  CHECK(list.out.find("not started") != std::string::npos);
}

// Forged verdicts: student code that tries to report a pass itself. Each must
// fail, with a message that says what happened.

TEST_CASE("fake results printed on stdout are not verdicts") {
  const auto run = run_fixture("forge_stdout", {"--json"});
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(report["passed"] == false);
  CHECK(some_check_says(report, "work(10, 2) == 55 is 10 == 55"));
}

TEST_CASE("fake results written to every descriptor fail the stage as forged") {
  const auto run = run_fixture("forge_every_fd", {"--json"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(report["passed"] == false);
  CHECK(some_check_says(report, "did not come from the check harness"));
  CHECK(nothing_left_of("forge_every_fd"));
}

TEST_CASE("a program that exits with 0 inside a check does not pass") {
  const auto run = run_fixture("exit_in_check", {"--json"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(report["passed"] == false);
  CHECK(some_check_says(report, "did your code call exit() or _exit()?"));
}

TEST_CASE("calling the protocol's own writer without the run's secret forges nothing") {
  const auto run = run_fixture("call_harness", {"--json"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  CHECK(report["passed"] == false);
  CHECK(some_check_says(report, "did not come from the check harness"));
}

TEST_CASE("a crash inside malloc is reported as a crash and not as a hang") {
  const auto run = run_fixture("crash_in_malloc", {"--json"});
  INFO(run.out);
  CHECK(run.exit_code == 1);
  const auto report = lab_test::output_json(run);
  for (const auto& check : report["checks"]) {
    INFO(check["name"]);
    CHECK(check["message"] == "crashed: SIGSEGV (segmentation fault)");
  }
  CHECK(nothing_left_of("crash_in_malloc"));
}

TEST_CASE("checks that do not compile are the course's fault with exit code 3") {
  const auto course = lab_test::repository() / "tests/fixtures/broken_course";
  const auto run = run_lab({"--course", course.string(), "exercise", "broken_checks"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 3);
  CHECK(run.out.find("this is the course's fault, not yours") != std::string::npos);
  const auto graded = run_lab({"--course", course.string(), "grade"});
  CHECK(graded.exit_code == 3);
}

TEST_CASE("lab with no arguments on a folder that is not a course says so in one line") {
  const auto folder = lab_test::fresh_temp_dir();
  const auto run = run_lab({"--course", folder.string()}, {{"LAB_STDIN", script("lessons\n")}});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("exercises/info.json: cannot read it") != std::string::npos);
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
}

TEST_CASE("lab with no arguments on a broken info.json says where in one line") {
  const auto folder = lab_test::fresh_temp_dir();
  std::filesystem::create_directories(folder / "exercises");
  std::ofstream(folder / "exercises/info.json") << "{\n  \"exercises\": [\n    { \"name\": }\n";
  const auto run = run_lab({"--course", folder.string()}, {{"LAB_STDIN", script("lessons\n")}});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("exercises/info.json:3:") != std::string::npos);
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
}

TEST_CASE("lab with no arguments where progress cannot be kept says so in one line") {
  // A state folder under a file cannot be made, not even by root (a
  // read-only checkout is writable for root, so it cannot stand in here).
  const auto run =
      run_lab({}, {{"LAB_STDIN", script("lessons\n")}, {"LAB_STATE_DIR", "/dev/null/lab"}});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("cannot use /dev/null/lab") != std::string::npos);
  CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
}

TEST_CASE("a timing run that hangs after the checks passed says that the checks missed it") {
  const auto run = lab_test::run_lab({"--course", lab_test::fixture_course().string(), "exercise",
                                      "hangs_when_timed"});
  INFO(run.out, run.err);
  CHECK(run.out.find("All 1 stage of hangs_when_timed pass") != std::string::npos);
  CHECK(run.out.find("could not time: timed out after 2 s: every thread was blocked") !=
        std::string::npos);
  CHECK(run.out.find("your code has a mistake the checks missed") != std::string::npos);
  CHECK(nothing_left_of("hangs_when_timed"));
}

TEST_CASE("a crash shows what the program printed and advice for the runtime's message") {
  const auto run = run_fixture("forgot_join");
  INFO(run.out);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("crashed: SIGABRT (aborted) (a std::thread was destroyed while still "
                     "joinable: join() or detach() it first)") != std::string::npos);
  CHECK(run.out.find("your program printed (last lines):") != std::string::npos);
  CHECK(run.out.find("│ terminate called without an active exception") != std::string::npos);
}

TEST_CASE("verbose shows under each check what the program printed during it") {
  const auto run = run_fixture("prints", {"--verbose"});
  INFO(run.out, run.err);
  CHECK(run.exit_code == 1);  // it crashes for 0
  // A passing check's lines, both streams, each under its own heading; the
  // line printed without a newline stays on its own.
  CHECK(run.out.find("✔ sums the numbers up to 10\n"
                     "      your program printed on stdout:\n"
                     "      │ work(10) starts\n"
                     "      │ work(10) = 55\n"
                     "      your program printed on stderr:\n"
                     "      │ debug: n = 10\n") != std::string::npos);
  // 1002 lines: the first and the last 50 are shown, and the cut is said.
  CHECK(run.out.find("      │ work(1000) starts\n      │ adding 1\n") != std::string::npos);
  CHECK(run.out.find("      │ ... 902 lines not shown ...\n") != std::string::npos);
  CHECK(run.out.find("      │ adding 1000\n      │ work(1000) = 500500\n") != std::string::npos);
  CHECK(run.out.find("adding 500\n") == std::string::npos);
  // The line printed just before the crash reached lab (stdout is written
  // line by line), and belongs to the check that crashed.
  CHECK(run.out.find("✘ sums nothing for 0 — crashed: SIGSEGV (segmentation fault)\n"
                     "      your program printed on stdout:\n"
                     "      │ work(0) starts\n") != std::string::npos);
  // The static initialiser's line came before any check.
  CHECK(run.out.find("outside the checks") != std::string::npos);
  CHECK(run.out.find("│ prints: loaded\n") != std::string::npos);
  CHECK(run.out.find("\x1e") == std::string::npos);  // no mark shows
}

TEST_CASE("without verbose a passing check's output stays hidden and json has it all") {
  const auto plain = run_fixture("prints");
  INFO(plain.out);
  CHECK(plain.out.find("work(10) starts") == std::string::npos);
  // The crashed check still shows its last lines.
  CHECK(plain.out.find("│ work(0) starts") != std::string::npos);

  const auto run = run_fixture("prints", {"--json"});
  const auto report = lab_test::output_json(run);
  REQUIRE(report["checks"].size() == 3);
  CHECK(report["checks"][0]["stdout"] == "work(10) starts\nwork(10) = 55");
  CHECK(report["checks"][0]["stderr"] == "debug: n = 10\n");
  CHECK(report["checks"][0]["output_complete"] == true);
  CHECK(report["checks"][2]["stdout"] == "work(0) starts\n");
}
