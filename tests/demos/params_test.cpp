// A demo's parameters: declared with their kind, default and range; the
// student's values are checked against the declarations before the demo
// runs, and a value that does not fit names the parameter, the value and the
// range. The help text comes from the same declarations.
#include "params.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using lab::demos::bad_param;
using lab::demos::param_spec;
using lab::demos::params;
namespace param = lab::demos::param;

namespace {

// Every kind of parameter once, as a demo would declare them.
const std::vector<param_spec> specs = {
    param::number("threads", 2, {1, 16}),
    param::numbers("workers", {1, 5}, {1, 64}),
    param::reals("interval_ms", {5, 1, 0.1}, {0.001, 100}),
    param::flag("native", false),
    param::text("program", "counter", "a program"),
    param::number_or("steps", "the program's own", {1, 4}),
};

// The message of the bad_param that `values` make, or "" if none.
std::string refusal(const std::map<std::string, std::string>& values) {
  try {
    const params p(specs, values);
  } catch (const bad_param& error) {
    return error.what();
  }
  return "";
}

}  // namespace

TEST_CASE("parameters not given take their declared defaults") {
  const params p(specs, {});
  CHECK(p.number("threads") == 2);
  CHECK(p.numbers("workers") == std::vector<long>{1, 5});
  CHECK(p.reals("interval_ms") == std::vector<double>{5, 1, 0.1});
  CHECK_FALSE(p.flag("native"));
  CHECK(p.text("program") == "counter");
  CHECK_FALSE(p.given("threads"));
  CHECK_FALSE(p.given("steps"));
}

TEST_CASE("given parameters are read as numbers lists flags and text") {
  const params p(specs, {{"threads", "16"},
                         {"workers", "1,2,4"},
                         {"interval_ms", "0.001,100"},
                         {"native", "yes"},
                         {"program", "bank"},
                         {"steps", "3"}});
  CHECK(p.number("threads") == 16);
  CHECK(p.numbers("workers") == std::vector<long>{1, 2, 4});
  CHECK(p.reals("interval_ms") == std::vector<double>{0.001, 100});
  CHECK(p.flag("native"));
  CHECK(p.text("program") == "bank");
  CHECK(p.given("steps"));
  CHECK(p.number("steps") == 3);
}

TEST_CASE("a value out of its range names the parameter the value and the range") {
  CHECK(refusal({{"threads", "0"}}) == "threads=0 is out of range: 1 to 16");
  CHECK(refusal({{"threads", "100000"}}) == "threads=100000 is out of range: 1 to 16");
  CHECK(refusal({{"workers", "1,65"}}) == "workers=65 is out of range: 1 to 64");
  CHECK(refusal({{"interval_ms", "0"}}) == "interval_ms=0 is out of range: 0.001 to 100");
  CHECK(refusal({{"interval_ms", "5,inf"}}) == "interval_ms=inf is out of range: 0.001 to 100");
  CHECK(refusal({{"interval_ms", "nan"}}) == "interval_ms=nan is out of range: 0.001 to 100");
  CHECK(refusal({{"steps", "5"}}) == "steps=5 is out of range: 1 to 4");
}

TEST_CASE("a value that cannot be read names its key and what it should be") {
  CHECK(refusal({{"threads", "two"}}) == "threads=two is not a whole number from 1 to 16");
  CHECK(refusal({{"threads", "1.5"}}) == "threads=1.5 is not a whole number from 1 to 16");
  CHECK(refusal({{"workers", "1,,2"}}) == "workers= is not a whole number from 1 to 64");
  CHECK(refusal({{"workers", ""}}) == "workers= needs at least one number");
  CHECK(refusal({{"interval_ms", "5,fast"}}) ==
        "interval_ms=fast is not a number from 0.001 to 100");
  CHECK(refusal({{"native", "2"}}) == "native=2 should be 0 or 1");
}

TEST_CASE("a list may have at most max_list_values values") {
  CHECK(refusal({{"workers", "1,2,3,4,5,6,7,8"}}).empty());
  CHECK(refusal({{"workers", "1,2,3,4,5,6,7,8,9"}}) ==
        "workers=1,2,3,4,5,6,7,8,9 has 9 values: at most 8");
}

TEST_CASE("parameters nobody declared are kept aside as unknown and not refused") {
  const params p(specs, {{"threads", "2"}, {"thraeds", "4"}});
  CHECK(p.number("threads") == 2);
  CHECK(p.unknown() == std::vector<std::string>{"thraeds"});
}

TEST_CASE("a default out of its range or an undeclared read is the demo's bug not the student's") {
  CHECK_THROWS_AS(params({param::number("threads", 0, {1, 16})}, {}), std::logic_error);
  CHECK_THROWS_AS(params({param::numbers("workers", {1, 65}, {1, 64})}, {}), std::logic_error);
  const params p(specs, {});
  CHECK_THROWS_AS(p.number("undeclared"), std::logic_error);
  CHECK_THROWS_AS(p.numbers("threads"), std::logic_error);  // declared a number, read as a list
  CHECK_THROWS_AS(p.number("steps"), std::logic_error);     // no default: given() first
}

TEST_CASE("the help text gives every parameter's range and default from the declarations") {
  CHECK(lab::demos::params_help(specs) ==
        "threads=1..16, default 2; workers=a list of up to 8 in 1..64, default 1,5; "
        "interval_ms=a list of up to 8 in 0.001..100, default 5,1,0.1; native=0|1, default 0; "
        "program=a program, default counter; steps=1..4, default the program's own");
}
