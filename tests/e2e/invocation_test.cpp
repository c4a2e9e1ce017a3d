// End-to-end: lab names its commands in what it suggests the way it was run
// (LAB_INVOKED_AS, set by bin/lab), and plainly "lab" when run directly.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <utility>

#include "lab_process.hpp"

using lab_test::run_lab;

namespace {

const std::pair<std::string, std::string> from_bin_lab = {"LAB_INVOKED_AS", "bin/lab"};

bool says(const std::string& text, const std::string& words) {
  return text.find(words) != std::string::npos;
}

}  // namespace

TEST_CASE("after bin/lab every suggestion says bin/lab") {
  const auto list = run_lab({"list"}, {from_bin_lab});
  INFO(list.out, list.err);
  CHECK(says(list.out, "Run one with: bin/lab exercise NAME\n"));
  const auto typo = run_lab({"exercise", "prims"}, {from_bin_lab});
  CHECK(typo.exit_code == 2);
  CHECK(says(typo.err, "(bin/lab list shows them all)"));
  const auto option = run_lab({"exercise", "primes", "--stag", "1"}, {from_bin_lab});
  CHECK(says(option.err, "(bin/lab exercise --help lists the options)"));
  const auto help = run_lab({"--help"}, {from_bin_lab});
  CHECK(says(help.out, "Start with:  bin/lab list    then    bin/lab exercise primes"));
  CHECK(says(help.out, "Usage: bin/lab"));
}

TEST_CASE("run without bin/lab the suggestions say lab") {
  const auto list = run_lab({"list"});
  CHECK(says(list.out, "Run one with: lab exercise NAME\n"));
}

TEST_CASE("inside the REPL a suggestion is a command typed at its prompt") {
  const auto folder = lab_test::fresh_temp_dir();
  std::ofstream(folder / "script") << "lessons\nexercise prims\nlist\n";
  const auto run = run_lab({"--course", lab_test::fixture_course().string()},
                           {from_bin_lab,
                            {"LAB_STDIN", (folder / "script").string()},
                            {"LAB_STATE_DIR", folder.string()}});
  INFO(run.out, run.err);
  CHECK(says(run.out, "Open one with: lesson NAME\n"));
  CHECK(says(run.err, "(list shows them all)"));
  CHECK(says(run.out, "Run one with: exercise NAME\n"));
  CHECK_FALSE(says(run.out + run.err, "bin/lab exercise"));
}
