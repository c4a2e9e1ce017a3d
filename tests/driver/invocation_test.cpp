// How lab names itself in what it suggests (lab/driver/invocation.cpp): the
// way the student ran it, in one function that every suggestion goes through.
#include "invocation.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

// Runs lab_command as if bin/lab had said `invoked_as` ("" for not at all).
std::string command_as(const char* invoked_as, const std::string& arguments) {
  if (invoked_as == nullptr)
    unsetenv(lab::invoked_as_variable);
  else
    setenv(lab::invoked_as_variable, invoked_as, 1);
  lab::take_invocation_from_environment();
  const std::string command = lab::lab_command(arguments);
  unsetenv(lab::invoked_as_variable);
  lab::take_invocation_from_environment();
  return command;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A lab command written out for a student to type: "`lab ", or "lab" and a
// subcommand that is not a message's prefix ("lab settings: ..." names who
// speaks, like "grep: ...").
const std::regex spelt_out_command(
    "`lab |\\blab (list|exercise|solution|hint|grade|lessons|lesson|demo|progress|settings|step|"
    "bench|--help)\\b(?!:)");

}  // namespace

TEST_CASE("a suggestion names lab the way bin/lab was run") {
  CHECK(command_as("bin/lab", "hint primes") == "bin/lab hint primes");
  CHECK(command_as("../bin/lab", "exercise primes") == "../bin/lab exercise primes");
  CHECK(command_as("lab", "list") == "lab list");
  CHECK(command_as(nullptr, "list") == "lab list");  // the binary run directly
  CHECK(command_as("", "list") == "lab list");
  CHECK(command_as("bin/lab", "") == "bin/lab");
}

TEST_CASE("a path that a shell would split is quoted in a suggestion") {
  CHECK(command_as("/home/ana's lab/bin/lab", "list") == "'/home/ana'\\''s lab/bin/lab' list");
}

TEST_CASE("inside the REPL a suggestion is the REPL's own command without lab") {
  setenv(lab::invoked_as_variable, "bin/lab", 1);
  lab::take_invocation_from_environment();
  CHECK_FALSE(lab::in_repl());
  {
    const lab::repl_suggestions typed_in_repl;
    CHECK(lab::in_repl());
    CHECK(lab::lab_command("hint primes") == "hint primes");
    CHECK(lab::lab_command() == "bin/lab");  // how to start lab is still bin/lab
  }
  CHECK_FALSE(lab::in_repl());
  CHECK(lab::lab_command("hint primes") == "bin/lab hint primes");
  unsetenv(lab::invoked_as_variable);
  lab::take_invocation_from_environment();
}

TEST_CASE("no message of lab or of the lessons spells out a lab command outside lab_command") {
  const fs::path source(LAB_TEST_SOURCE_DIR);
  const std::regex literal("\"((?:[^\"\\\\\\n]|\\\\.)*)\"");
  int files = 0;
  for (const auto& entry : fs::directory_iterator(source / "lab/driver")) {
    const auto extension = entry.path().extension();
    if (extension != ".cpp" && extension != ".hpp") continue;
    if (entry.path().stem() == "invocation") continue;  // the one place that may
    ++files;
    const std::string text = read_text(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), literal), end; it != end; ++it) {
      const std::string words = (*it)[1].str();
      INFO(entry.path().filename().string(), ": \"", words, "\"");
      CHECK_FALSE(std::regex_search(words, spelt_out_command));
    }
  }
  CHECK(files > 40);
  // Lessons and hints are shown in the REPL too, where commands have no "lab".
  std::vector<fs::path> shown = {source / "exercises/info.json"};
  for (const auto& entry : fs::directory_iterator(source / "lessons"))
    if (entry.path().extension() == ".md" && entry.path().filename() != "README.md")
      shown.push_back(entry.path());
  for (const auto& file : shown) {
    std::istringstream lines(read_text(file));
    int number = 0;
    for (std::string line; std::getline(lines, line);) {
      ++number;
      INFO(fs::relative(file, source).string(), ":", number, ": ", line);
      CHECK_FALSE(std::regex_search(line, spelt_out_command));
    }
  }
}
