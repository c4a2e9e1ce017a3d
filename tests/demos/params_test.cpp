// A demo's parameters: numbers, lists, flags and text are read from the
// key=value words, a value that cannot be read names its key, and keys
// nobody asked for are reported (they are probably typos).
#include "demo.hpp"

#include <doctest/doctest.h>

using lab::demos::bad_param;
using lab::demos::params;

TEST_CASE("parameters are read as numbers lists flags and text or fall back to defaults") {
  const params p({{"n", "30"},
                  {"workers", "1,2,4"},
                  {"interval_ms", "5,1,0.1"},
                  {"native", "yes"},
                  {"program", "bank"},
                  {"ratio", "0.5"}});
  CHECK(p.number("n", 1) == 30);
  CHECK(p.number("missing", 7) == 7);
  CHECK(p.numbers("workers", {1}) == std::vector<long>{1, 2, 4});
  CHECK(p.reals("interval_ms", {5}) == std::vector<double>{5, 1, 0.1});
  CHECK(p.reals("absent", {2.5}) == std::vector<double>{2.5});
  CHECK(p.flag("native", false));
  CHECK(p.text("program", "counter") == "bank");
  CHECK(p.real("ratio", 1) == doctest::Approx(0.5));
}

TEST_CASE("a value that cannot be read names its key") {
  const params p({{"n", "thirty"}, {"workers", "1,,2"}, {"interval_ms", "5,fast"}, {"gil", "2"}});
  CHECK_THROWS_WITH_AS(p.number("n", 1), "n=thirty is not a number", bad_param);
  CHECK_THROWS_AS(p.numbers("workers", {1}), bad_param);
  CHECK_THROWS_WITH_AS(p.reals("interval_ms", {5}), "interval_ms=fast is not a number", bad_param);
  CHECK_THROWS_WITH_AS(p.flag("gil", false), "gil=2 should be 0 or 1", bad_param);
}

TEST_CASE("parameters nobody asked for are reported as unused") {
  const params p({{"threads", "2"}, {"thraeds", "4"}});
  CHECK(p.number("threads", 1) == 2);
  CHECK(p.unused() == std::vector<std::string>{"thraeds"});
}
