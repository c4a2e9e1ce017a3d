#include "lab/generator.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "tracked.hpp"

namespace {

lab::generator<int> count_to(int n, std::vector<std::string>& trace) {
  trace.push_back("started");
  for (int i = 1; i <= n; ++i) {
    trace.push_back("yield " + std::to_string(i));
    co_yield i;
  }
  trace.push_back("ended");
}

using lab_test::tracked;

lab::generator<int> holds_a_local(int& alive) {
  tracked local(alive);
  for (int i = 0;; ++i) co_yield i;
}

lab::generator<int> throws_after(int n) {
  for (int i = 0; i < n; ++i) co_yield i;
  throw std::runtime_error("bad step " + std::to_string(n));
}

lab::generator<std::string> inner_words(std::string prefix) {
  co_yield prefix + "1";
  co_yield prefix + "2";
}

lab::generator<std::string> outer_words() {
  co_yield std::string("start");
  co_yield lab::elements_of(inner_words("a"));
  co_yield lab::elements_of(inner_words("b"));
  co_yield std::string("end");
}

lab::generator<int> nested_deep(int depth) {
  co_yield depth;
  if (depth > 0) co_yield lab::elements_of(nested_deep(depth - 1));
}

lab::generator<int> catches_the_inner_error() {
  bool caught = false;
  try {
    co_yield lab::elements_of(throws_after(2));
  } catch (const std::runtime_error&) {
    caught = true;  // C++ allows no co_yield inside a handler: note it, yield after
  }
  if (caught) co_yield -1;
  co_yield 99;
}

}  // namespace

TEST_CASE("a generator runs none of its body before the first step") {
  std::vector<std::string> trace;
  auto numbers = count_to(2, trace);
  CHECK(trace.empty());
  auto it = numbers.begin();
  CHECK(trace == std::vector<std::string>{"started", "yield 1"});
  CHECK(*it == 1);
  ++it;
  CHECK(trace.back() == "yield 2");
  CHECK(*it == 2);
  ++it;
  CHECK(trace.back() == "ended");
  CHECK(it == numbers.end());
}

TEST_CASE("a generator hands out its elements in a range-for") {
  std::vector<std::string> trace;
  std::vector<int> seen;
  for (int i : count_to(5, trace)) seen.push_back(i);
  CHECK(seen == std::vector<int>{1, 2, 3, 4, 5});
}

TEST_CASE("an exception in the body comes out of the step that ran it") {
  auto numbers = throws_after(2);
  auto it = numbers.begin();
  CHECK(*it == 0);
  ++it;
  CHECK(*it == 1);
  CHECK_THROWS_WITH_AS(++it, "bad step 2", std::runtime_error);
  CHECK(it == numbers.end());
}

TEST_CASE("an exception before the first element comes out of begin") {
  auto numbers = throws_after(0);
  CHECK_THROWS_AS(numbers.begin(), std::runtime_error);
}

TEST_CASE("a generator destroyed before its end destroys its locals") {
  int alive = 0;
  {
    auto numbers = holds_a_local(alive);
    CHECK(alive == 0);  // lazy: the local does not exist yet
    auto it = numbers.begin();
    ++it;
    CHECK(*it == 1);
    CHECK(alive == 1);
  }
  CHECK(alive == 0);
}

TEST_CASE("elements_of hands out a nested generator's elements in place") {
  std::vector<std::string> seen;
  for (const auto& word : outer_words()) seen.push_back(word);
  CHECK(seen == std::vector<std::string>{"start", "a1", "a2", "b1", "b2", "end"});
}

TEST_CASE("generators nest many levels deep") {
  std::vector<int> seen;
  for (int i : nested_deep(200)) seen.push_back(i);
  REQUIRE(seen.size() == 201);
  CHECK(seen.front() == 200);
  CHECK(seen.back() == 0);
}

TEST_CASE("a nested generator's exception reaches the body that yielded it") {
  std::vector<int> seen;
  for (int i : catches_the_inner_error()) seen.push_back(i);
  CHECK(seen == std::vector<int>{0, 1, -1, 99});
}

TEST_CASE("destroying a generator in the middle of a nested one frees both") {
  int alive = 0;
  {
    auto outer = [](int& counter) -> lab::generator<int> {
      tracked mine(counter);
      co_yield lab::elements_of(holds_a_local(counter));
    }(alive);
    auto it = outer.begin();
    CHECK(*it == 0);
    CHECK(alive == 2);
  }
  CHECK(alive == 0);
}

TEST_CASE("a moved generator keeps its place") {
  std::vector<std::string> trace;
  auto first = count_to(3, trace);
  auto it = first.begin();
  CHECK(*it == 1);
  lab::generator<int> second = std::move(first);
  ++it;  // the frame moved with the generator; the iterator still points at it
  CHECK(*it == 2);
  CHECK(trace.back() == "yield 2");
}
