// End-to-end: `lab settings` persists the student's GIL settings and the
// demos run with them.
#include <doctest/doctest.h>

#include <regex>

#include "lab_process.hpp"

using lab_test::run_lab;

TEST_CASE("a changed switch interval is kept and reaches the handoff demo") {
  const std::string state = lab_test::fresh_temp_dir().string();
  const std::vector<std::pair<std::string, std::string>> env = {{"LAB_STATE_DIR", state}};
  const auto set = run_lab({"settings", "interval_ms=1"}, env);
  CHECK(set.exit_code == 0);
  CHECK(set.out.find("interval_ms  1*") != std::string::npos);

  const auto demo = run_lab({"demo", "gil.handoff", "rounds=3"}, env);
  CHECK(demo.exit_code == 0);
  CHECK(demo.out.find("(your settings: interval_ms=1;") != std::string::npos);
  CHECK(std::regex_search(
      demo.out, std::regex("\\n +1 ms +[0-9.]+ ms +[0-9.]+x +\\(the current setting\\)")));

  const auto reset = run_lab({"settings", "--reset"}, env);
  CHECK(reset.out.find("interval_ms  5 ") != std::string::npos);
}

TEST_CASE("a bad setting is refused with the allowed values and changes nothing") {
  const std::string state = lab_test::fresh_temp_dir().string();
  const std::vector<std::pair<std::string, std::string>> env = {{"LAB_STATE_DIR", state}};
  const auto bad = run_lab({"settings", "spacing=8", "forced=maybe"}, env);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "lab settings: forced=maybe should be on or off\n");
  const auto shown = run_lab({"settings"}, env);
  CHECK(shown.out.find("spacing      64 ") != std::string::npos);
}
