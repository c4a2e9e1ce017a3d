// End-to-end: the coroutine demos print what the coroutines lesson claims,
// checked against the order the test works out for itself.
#include <doctest/doctest.h>
#include <fmt/core.h>

#include <cstddef>
#include <string>

#include "lab_process.hpp"

using lab_test::run_lab;

TEST_CASE("coro.round_robin prints coro1 and coro2 strictly alternating with their own counts") {
  const int rounds = 5;
  const auto run = run_lab({"demo", "coro.round_robin", fmt::format("rounds={}", rounds)});
  CHECK(run.exit_code == 0);
  std::string expected;
  for (int count = 1; count <= rounds; ++count)
    expected += fmt::format("coro1 {}\ncoro2 {}\n", count, count);
  INFO("output: ", run.out);
  CHECK(run.out.find(expected) != std::string::npos);
  CHECK(run.out.find(fmt::format("coro1 {}", rounds + 1)) == std::string::npos);
  CHECK(run.out.find("strictly alternating") != std::string::npos);
}

TEST_CASE("coro.generator shows that nothing in the body runs before the first step") {
  const int n = 3;
  const auto run = run_lab({"demo", "coro.generator", fmt::format("n={}", n)});
  CHECK(run.exit_code == 0);
  INFO("output: ", run.out);
  const auto made = run.out.find("called squares(3)");
  const auto first_body = run.out.find("body:");
  const auto first_step = run.out.find("asks for the first element");
  REQUIRE(made != std::string::npos);
  REQUIRE(first_body != std::string::npos);
  CHECK(made < first_step);
  CHECK(first_step < first_body);
  std::size_t body_lines = 0;
  for (auto at = run.out.find("body:"); at != std::string::npos; at = run.out.find("body:", at + 1))
    ++body_lines;
  CHECK(body_lines == static_cast<std::size_t>(2 + 2 * n));
  for (int i = 1; i <= n; ++i) CHECK(run.out.find(fmt::format("got {}", i * i)) != std::string::npos);
}
