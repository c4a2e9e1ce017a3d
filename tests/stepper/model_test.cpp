// The stepper's model files: the step language parses what the models need,
// and a broken model is refused with the file and the step.
#include "model.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>

#include "machine.hpp"

namespace fs = std::filesystem;

namespace {

// Writes `text` as a model file in a fresh folder and returns its path.
fs::path model_with(const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("lab-model-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "broken.json";
  std::ofstream(file) << text;
  return file;
}

}  // namespace

TEST_CASE("a guarded assignment parses into its condition and its value") {
  const auto s = lab::stepper::parse_statement("if ok: balance = balance - 25");
  REQUIRE(s.condition.has_value());
  CHECK(s.condition->op == "var");
  CHECK(s.target == "balance");
  CHECK(s.value.op == "-");
  CHECK(s.value.operands[1].number == 25);
}

TEST_CASE("lock and unlock name a mutex and a variable may start with lock") {
  CHECK(lab::stepper::parse_statement("lock m").what == lab::stepper::statement::kind::lock);
  CHECK(lab::stepper::parse_statement("unlock m").what == lab::stepper::statement::kind::unlock);
  const auto s = lab::stepper::parse_statement("locks = locks + 1");
  CHECK(s.what == lab::stepper::statement::kind::assign);
  CHECK(s.target == "locks");
}

TEST_CASE("a statement with a typo names the column") {
  CHECK_THROWS_WITH_AS(lab::stepper::parse_statement("tmp == n"),
                       "expected a variable name at column 6 of \"tmp == n\"",
                       lab::stepper::model_error);
  CHECK_THROWS_AS(lab::stepper::parse_statement("n = tmp +"), lab::stepper::model_error);
  CHECK_THROWS_AS(lab::stepper::parse_expression("n < 2 extra"), lab::stepper::model_error);
}

TEST_CASE("a model that uses an undeclared variable is refused with the step number") {
  const fs::path file = model_with(
      R"({"shared": {"n": 0}, "locals": {"tmp": 0}, "steps": ["tmp = n", "n = tpm + 1"]})");
  CHECK_THROWS_WITH_AS(lab::stepper::load_model(file),
                       (file.string() + ": step 2: \"tpm\" is neither shared nor local").c_str(),
                       lab::stepper::model_error);
}

TEST_CASE("a model that is not JSON is refused with its file name") {
  const fs::path file = model_with("{ steps: ");
  try {
    lab::stepper::load_model(file);
    FAIL("no error");
  } catch (const lab::stepper::model_error& error) {
    CHECK(std::string(error.what()).rfind(file.string() + ": not a valid model", 0) == 0);
  }
}

TEST_CASE("every model of the course loads and has a bad outcome or a lock") {
  const fs::path course = LAB_TEST_SOURCE_DIR;
  const auto names = lab::stepper::model_names(course);
  REQUIRE(names.size() >= 3);
  for (const auto& name : names) {
    CAPTURE(name);
    const auto m = lab::stepper::load_model(lab::stepper::model_file(course, name));
    CHECK_FALSE(m.summary.empty());
    CHECK_FALSE(m.outcome.empty());
    CHECK_FALSE(m.steps.empty());
  }
}
