// Run profiles: course data sets the box's limits, within lab's ceiling.
#include "run_profile.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using json = nlohmann::json;

TEST_CASE("limits from course data replace the profile's defaults") {
  const auto profile = lab::apply_limits(lab::profiles::check_program(),
                                         json::parse(R"({"timeout_seconds": 8, "max_tasks": 40,
                                           "open_files": 12000, "memory_mb": 512,
                                           "network": "host"})"));
  CHECK(profile.timeout == std::chrono::seconds(8));
  CHECK(profile.max_tasks == 40);
  CHECK(profile.open_files == 12000);
  CHECK(profile.address_space_bytes == 512ull << 20);
  CHECK(profile.network == lab::network_access::host);
  // What was not named keeps its default.
  CHECK(profile.file_size_bytes == lab::profiles::check_program().file_size_bytes);
}

TEST_CASE("no limits leave the profile as it was") {
  const auto base = lab::profiles::demo();
  const auto profile = lab::apply_limits(base, json());
  CHECK(profile.timeout == base.timeout);
  CHECK(profile.open_files == base.open_files);
}

TEST_CASE("a limit above lab's ceiling is refused and names the ceiling") {
  try {
    lab::apply_limits(lab::run_profile{}, json::parse(R"({"open_files": 100000})"));
    FAIL("accepted 100000 open files");
  } catch (const std::invalid_argument& error) {
    CHECK(std::string(error.what()) == "limits: open_files 100000 is above lab's ceiling of 65536");
  }
}

TEST_CASE("unknown keys and wrong types and values below 1 are refused") {
  CHECK_THROWS_WITH_AS(lab::apply_limits(lab::run_profile{}, json::parse(R"({"open_file": 9})")),
                       doctest::Contains("unknown key \"open_file\""), std::invalid_argument);
  CHECK_THROWS_WITH_AS(lab::apply_limits(lab::run_profile{}, json::parse(R"({"max_tasks": "9"})")),
                       doctest::Contains("should be a whole number"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(lab::apply_limits(lab::run_profile{}, json::parse(R"({"max_tasks": 0})")),
                       doctest::Contains("at least 1"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(lab::apply_limits(lab::run_profile{}, json::parse(R"({"network": "lan"})")),
                       doctest::Contains("\"isolated\" or \"host\""), std::invalid_argument);
  CHECK_THROWS_AS(lab::apply_limits(lab::run_profile{}, json::parse("[1]")), std::invalid_argument);
}

TEST_CASE("demos get the machine's loopback and checks an isolated one") {
  CHECK(lab::profiles::demo().network == lab::network_access::host);
  CHECK(lab::profiles::check_program().network == lab::network_access::isolated);
}
