// Demo parameters are parsed once, where they are typed; demos are listed
// with their boxes; a demo's reported figures come back as metrics.
#include "demo_run.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "build_config.hpp"

TEST_CASE("key=value words become parameters in order") {
  const auto params = lab::parse_params({"workers=1,2", "end=50"});
  REQUIRE(params.size() == 2);
  CHECK(params[0] == std::pair<std::string, std::string>{"workers", "1,2"});
  CHECK(params[1] == std::pair<std::string, std::string>{"end", "50"});
  CHECK(lab::parse_params_text("  a=1   b=  ") == lab::demo_params{{"a", "1"}, {"b", ""}});
}

TEST_CASE("a word that is not key=value is refused by name") {
  CHECK_THROWS_WITH_AS(lab::parse_params({"workers=2", "fast"}), "\"fast\" is not key=value",
                       std::invalid_argument);
  CHECK_THROWS_AS(lab::parse_params({"=2"}), std::invalid_argument);
}

TEST_CASE("overrides replace a default's value and add new keys after the defaults") {
  const auto merged = lab::overlay_params({{"a", "1"}, {"b", "2"}}, {{"b", "9"}, {"c", "3"}});
  CHECK(merged == lab::demo_params{{"a", "1"}, {"b", "9"}, {"c", "3"}});
}

TEST_CASE("every demo is listed with a box on the machine's loopback") {
  const auto demos = lab::available_demos();
  REQUIRE(demos.size() > 5);
  const auto* handoff = lab::find_demo(demos, "gil.handoff");
  REQUIRE(handoff != nullptr);
  CHECK_FALSE(handoff->summary.empty());
  CHECK(handoff->profile.network == lab::network_access::host);
  CHECK(handoff->profile.address_space_bytes == 0);
  CHECK(lab::find_demo(demos, "no.such.demo") == nullptr);
}

TEST_CASE("a demo's figures come back as metrics with their units") {
  const auto demos = lab::available_demos();
  lab::demo_request request;
  request.demo = lab::find_demo(demos, "race.bank");
  REQUIRE(request.demo != nullptr);
  request.params = {{"trials", "20"}};
  const auto outcome = lab::run_demo(request);
  INFO(outcome.problem, outcome.run.out, outcome.run.err);
  CHECK(outcome.problem.empty());
  CHECK(outcome.exit_code == 0);
  REQUIRE_FALSE(outcome.metrics.empty());
  CHECK_FALSE(outcome.metrics.front().name.empty());
  CHECK_FALSE(outcome.metrics.front().unit.empty());
}

TEST_CASE("every demo's own limits are valid course data within lab's ceiling") {
  lab::run_spec spec;
  spec.argv = {lab::build_config::demos_program, "--list"};
  spec.profile = lab::profiles::query();
  const auto run = lab::run_in_box(spec);
  int listed = 0;
  for (const auto& event : run.events)
    if (const auto* demo = std::get_if<lab::protocol::demo_listed>(&event)) {
      ++listed;
      INFO(demo->name, ": ", demo->limits);
      const auto limits = demo->limits.empty()
                              ? nlohmann::json()
                              : nlohmann::json::parse(demo->limits, nullptr, false);
      CHECK_FALSE(limits.is_discarded());
      CHECK_NOTHROW(lab::apply_limits(lab::profiles::demo(), limits));
    }
  CHECK(listed > 5);
  CHECK(run.rejected.total() == 0);
}
