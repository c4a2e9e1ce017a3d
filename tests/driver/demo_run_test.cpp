// What a demo reports on its result channel becomes figures for lab bench;
// anything else there is skipped, never trusted.
#include "demo_run.hpp"

#include <doctest/doctest.h>

TEST_CASE("metric lines from the result channel become figures in order") {
  const auto metrics = lab::parse_metrics(
      "{\"metric\":\"p99_ratio\",\"value\":31.5,\"unit\":\"x\"}\n"
      "{\"metric\":\"p99_alone_ms\",\"value\":0.07,\"unit\":\"ms\"}\n");
  REQUIRE(metrics.size() == 2);
  CHECK(metrics[0].name == "p99_ratio");
  CHECK(metrics[0].value == doctest::Approx(31.5));
  CHECK(metrics[0].unit == "x");
  CHECK(metrics[1].name == "p99_alone_ms");
}

TEST_CASE("lines on the result channel that are not metrics are skipped") {
  const auto metrics = lab::parse_metrics(
      "not json\n"
      "{\"metric\":\"no_value\"}\n"
      "{\"metric\":\"text_value\",\"value\":\"fast\"}\n"
      "{\"check\":\"something else\"}\n"
      "{\"metric\":\"kept\",\"value\":2}");
  REQUIRE(metrics.size() == 1);
  CHECK(metrics[0].name == "kept");
  CHECK(metrics[0].unit.empty());
  CHECK(lab::parse_metrics("").empty());
}
