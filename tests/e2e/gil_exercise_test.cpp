// End-to-end: the gil exercise's stage 2 checks appear only in stage 2, and
// a figure a check measures in passing is shown next to it.
#include <doctest/doctest.h>

#include "lab_process.hpp"

using lab_test::run_lab;

TEST_CASE("the gil solution shows its measured handoff wait next to the check") {
  const auto run = run_lab({"solution", "gil", "--stage", "2"}, {}, std::chrono::seconds(200));
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("lets a waiter in while the holder keeps running safepoints (median wait ") !=
        std::string::npos);
  CHECK(run.out.find("ms at a 2 ms interval)") != std::string::npos);
}

TEST_CASE("stage 1 of gil does not list the handoff checks of stage 2") {
  const auto run =
      run_lab({"solution", "gil", "--stage", "1", "--json"}, {}, std::chrono::seconds(200));
  CHECK(run.exit_code == 0);
  const auto document = lab_test::output_json(run);
  for (const auto& check : document["checks"]) {
    CAPTURE(check.dump());
    CHECK(check["stage"] == 1);
    CHECK(check["name"].get<std::string>().find("safepoint") == std::string::npos);
  }
  CHECK(document["checks"].size() == 3);  // two lock checks and the ThreadSanitizer pass
}
