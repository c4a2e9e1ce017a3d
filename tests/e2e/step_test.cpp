// End-to-end: the race stepper, played through a pipe the way the REPL
// feeds it, replayed from a schedule string, and as the race.stepper demo.
#include <doctest/doctest.h>

#include <fstream>

#include "lab_process.hpp"

using lab_test::run_lab;

TEST_CASE("playing the scheduler with undo reaches the lost update and prints its schedule") {
  // A reads, B reads, B undone, A adds, B reads, then B and A finish.
  const auto script = lab_test::fresh_temp_dir() / "moves";
  std::ofstream(script) << "a\nb\nu\na\nb\nbb\na\nq\n";
  const auto run = run_lab({"step", "counter"}, {{"LAB_STDIN", script.string()}});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("B: tmp = n                        -> tmp is 0") != std::string::npos);
  CHECK(run.out.find("You win: n = 1 (an update was lost). Schedule AABBBA") != std::string::npos);
}

TEST_CASE("a schedule string replays the same interleaving") {
  const auto run = run_lab({"step", "bank", "--schedule", "ABAABB"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("B: if ok: balance = balance - 25  -> balance is -25") != std::string::npos);
  CHECK(run.out.find("You win: balance = -25, paid out 50") != std::string::npos);
}

TEST_CASE("a schedule with a finished thread is refused with its step") {
  const auto run = run_lab({"step", "counter", "--schedule", "AAAA"});
  CHECK(run.exit_code == 2);
  CHECK(run.err == "lab step: schedule AAAA: step 4: A has finished\n");
}

TEST_CASE("explore mode counts the outcomes of every interleaving") {
  const auto run = run_lab({"step", "counter", "--explore"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("2 threads, 3 steps each: 20 interleavings") != std::string::npos);
  CHECK(run.out.find("n = 1  <- an update was lost") != std::string::npos);
}

TEST_CASE("an unknown program gets the closest name") {
  const auto run = run_lab({"step", "countr"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("no program named 'countr'") != std::string::npos);
  CHECK(run.err.find("counter") != std::string::npos);
}

TEST_CASE("the race.stepper demo explores and replays one bad schedule") {
  const auto run = run_lab({"demo", "race.stepper", "program=bank"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("20 interleavings") != std::string::npos);
  CHECK(run.out.find("One bad schedule, ") != std::string::npos);
  CHECK(run.out.find("outcome: balance = -25, paid out 50  <- both withdrawals succeeded") !=
        std::string::npos);
}
