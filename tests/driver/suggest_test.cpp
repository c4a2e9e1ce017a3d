#include "suggest.hpp"

#include <doctest/doctest.h>

TEST_CASE("edit distance counts insertions and deletions and substitutions") {
  CHECK(lab::edit_distance("primes", "primes") == 0);
  CHECK(lab::edit_distance("prims", "primes") == 1);
  CHECK(lab::edit_distance("exercize", "exercise") == 1);
  CHECK(lab::edit_distance("", "abc") == 3);
  CHECK(lab::edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("closest names prefer the nearest and leave out the far") {
  const std::vector<std::string> names = {"primes", "counter", "bank", "fib_dispatch"};
  CHECK(lab::closest_names("prims", names) == std::vector<std::string>{"primes"});
  CHECK(lab::closest_names("fib", names) == std::vector<std::string>{"fib_dispatch"});
  CHECK(lab::closest_names("zzzzzz", names).empty());
}

TEST_CASE("did you mean is empty when nothing is close") {
  CHECK(lab::did_you_mean("--stag", {"--stage", "--seed"}) == " Did you mean: --stage?");
  CHECK(lab::did_you_mean("qqqqqqqq", {"--stage"}).empty());
}
