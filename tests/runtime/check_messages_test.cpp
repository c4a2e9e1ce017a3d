// The words a check's failure message is built from (lab/check.hpp): a check
// that compares sequences says where they part, since doctest alone prints
// two vectors as {?} == {?}.
#include <lab/check.hpp>

#include <doctest/doctest.h>

#include <string>
#include <vector>

using lab::check::first_difference;

TEST_CASE("two equal sequences have no first difference") {
  CHECK(first_difference(std::vector<int>{1, 2, 3}, std::vector<int>{1, 2, 3}) == "");
  CHECK(first_difference(std::vector<int>{}, std::vector<int>{}) == "");
}

TEST_CASE("sequences of one length name the first index where they differ and both values") {
  CHECK(first_difference(std::vector<int>{1, 2, 3, 4}, std::vector<int>{1, 2, 9, 5}) ==
        "differs first at index 2: expected 3, got 9 (4 expected, 4 got)");
  CHECK(first_difference(std::vector<int>{7}, std::vector<int>{8}) ==
        "differs first at index 0: expected 7, got 8 (1 expected, 1 got)");
}

TEST_CASE("a sequence that stops early says nothing more came and gives both sizes") {
  CHECK(first_difference(std::vector<int>{1, 2, 3}, std::vector<int>{1, 2}) ==
        "differs first at index 2: expected 3, got nothing more (3 expected, 2 got)");
  CHECK(first_difference(std::vector<int>{5}, std::vector<int>{}) ==
        "differs first at index 0: expected 5, got nothing more (1 expected, 0 got)");
}

TEST_CASE("a sequence that goes on too long names the first value too many") {
  CHECK(first_difference(std::vector<long>{1, 2}, std::vector<long>{1, 2, 3, 4}) ==
        "differs first at index 2: expected nothing more, got 3 (2 expected, 4 got)");
}

TEST_CASE("a difference before the shorter sequence ends is named before the sizes") {
  const std::vector<std::string> expected = {"a", "b", "c"};
  CHECK(first_difference(expected, std::vector<std::string>{"a", "x"}) ==
        "differs first at index 1: expected b, got x (3 expected, 2 got)");
}
