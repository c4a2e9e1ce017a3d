// Hidden checks for the generator exercise (exercises/generator.cpp).
//
// The checks drive the student's int_generator only through the functions
// at the bottom of the exercise file (start_*, next_value, stop and the
// range-for helpers), which use nothing but begin(), end(), ++, * and ==.
// Everything is on one thread and deterministic: a generator runs only
// when its consumer steps it, so the order of events is the evidence.
//
// A frame left behind is seen by counting what this thread allocates and
// frees while a check runs a generator (operator new and delete are
// replaced below, for the whole program: the coroutine frames come from
// them). The ASan build of lab's own tests sees the same leaks.
#include <lab/check.hpp>

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

struct stepped;
bool next_value(stepped* s, int& value);
stepped* start_count_to(int n);
stepped* start_count_and_tell(int n, void (*hello)(int));
stepped* start_count_then_fail(int good, void (*fail)());
stepped* start_around(int first, int n, int last);
stepped* start_two_deep(int n);
stepped* start_around_a_failure(int good, void (*fail)());
void stop(stepped* s);
std::vector<int> range_for_count_to(int n);
std::vector<int> range_for_around(int first, int n, int last);

// --- counting this thread's allocations ----------------------------------------

namespace {
thread_local bool counting = false;
thread_local long live_blocks = 0;  // allocated minus freed while counting
}  // namespace

void* operator new(std::size_t size) {
  void* block = std::malloc(size == 0 ? 1 : size);
  if (block == nullptr) throw std::bad_alloc();
  if (counting) ++live_blocks;
  return block;
}
void* operator new[](std::size_t size) { return ::operator new(size); }
void operator delete(void* block) noexcept {
  if (block == nullptr) return;
  if (counting) --live_blocks;
  std::free(block);
}
void operator delete[](void* block) noexcept { ::operator delete(block); }
void operator delete(void* block, std::size_t) noexcept { ::operator delete(block); }
void operator delete[](void* block, std::size_t) noexcept { ::operator delete(block); }

namespace {

// Counts the blocks this thread allocates and frees while it lives.
class allocation_count {
 public:
  allocation_count() {
    live_blocks = 0;
    counting = true;
  }
  ~allocation_count() { counting = false; }
  allocation_count(const allocation_count&) = delete;
  allocation_count& operator=(const allocation_count&) = delete;
  long left_behind() const { return live_blocks; }
};

const std::string destroy_advice =
    "the generator's destructor must destroy the coroutine's frame (handle.destroy()), finished "
    "or not; a frame suspended at its end is still there until then (lesson: coroutines)";

// The values of `s` until it ends (at most `limit`), then stops it.
std::vector<int> drain(stepped* s, int limit = 1000) {
  std::vector<int> values;
  int value = 0;
  while (static_cast<int>(values.size()) < limit && next_value(s, value)) values.push_back(value);
  stop(s);
  return values;
}

std::vector<int> one_to(int n) {
  std::vector<int> values;
  for (int i = 1; i <= n; ++i) values.push_back(i);
  return values;
}

// What count_and_tell said, in order (a fixed array: no allocation inside
// the counted stretch).
int said[64];
int said_count = 0;
void remember(int what) {
  if (said_count < 64) said[said_count++] = what;
}
std::vector<int> what_was_said() { return {said, said + said_count}; }
std::string said_text() {
  std::string text;
  for (int i = 0; i < said_count; ++i) text += (i > 0 ? ", " : "") + std::to_string(said[i]);
  return text;
}

// Why a sequence came out wrong, when the shape of it says.
std::string sequence_advice(const std::vector<int>& expected, const std::vector<int>& got) {
  if (!expected.empty() && !got.empty() && got.front() != expected.front() &&
      got.size() + 1 == expected.size())
    return ": the first value is missing. Did the body start before the first step "
           "(initial_suspend must return std::suspend_always), or does begin() resume twice?";
  if (!expected.empty() && got.size() == expected.size() + 1)
    return ": one value too many. begin() must resume the body up to its first co_yield before "
           "the first value is read, and the end comes when the frame is done()";
  return "";
}

[[noreturn]] void fail_with_runtime_error() { throw std::runtime_error("the body failed here"); }

}  // namespace

// --- stage 1: the promise and the iterator -----------------------------------

TEST_CASE("gives the values of its co_yields in order and then ends") {
  for (int n : {0, 1, 3, 10}) {
    const std::vector<int> got = drain(start_count_to(n));
    const std::vector<int> expected = one_to(n);
    if (got != expected)
      FAIL_CHECK("count_to(", n, ") ", lab::check::first_difference(expected, got),
                 sequence_advice(expected, got));
  }
}

TEST_CASE("runs none of its body before the first step and each step only to the next co_yield") {
  said_count = 0;
  stepped* s = start_count_and_tell(3, remember);
  if (said_count != 0) {
    FAIL_CHECK("the body ran before the first step: it had said hello(0) as soon as the generator "
               "was made. initial_suspend must return std::suspend_always, so that nothing runs "
               "until the consumer asks for a value (lesson: coroutines)");
    stop(s);
    return;
  }
  int value = 0;
  const std::vector<std::vector<int>> after_each_step = {{0, 1}, {0, 1, 2}, {0, 1, 2, 3}};
  for (std::size_t step = 0; step < after_each_step.size(); ++step) {
    const bool got_one = next_value(s, value);
    if (!got_one || value != static_cast<int>(step) + 1 || what_was_said() != after_each_step[step]) {
      FAIL_CHECK("step ", step + 1, " gave ", got_one ? std::to_string(value) : "no value",
                 " and the body had said hello(", said_text(),
                 "): each step must run the body to its next co_yield and no further");
      break;
    }
  }
  stop(s);
}

TEST_CASE("works in a range-for loop") {
  const std::vector<int> got = range_for_count_to(5);
  if (got != one_to(5))
    FAIL_CHECK("for (int v : count_to(5)) ", lab::check::first_difference(one_to(5), got),
               sequence_advice(one_to(5), got));
}

TEST_CASE("frees its frame when destroyed after its last value") {
  const allocation_count count;
  drain(start_count_to(4));
  if (count.left_behind() != 0)
    FAIL_CHECK("a generator that gave all its values and was destroyed left ", count.left_behind(),
               " block(s) of memory behind: ", destroy_advice);
}

TEST_CASE("frees its frame when destroyed before its last value") {
  for (int taken : {0, 1, 2}) {
    const allocation_count count;
    drain(start_count_to(5), taken);
    if (count.left_behind() != 0) {
      FAIL_CHECK("a generator destroyed after ", taken, " of its 5 values left ",
                 count.left_behind(), " block(s) of memory behind: ", destroy_advice);
      break;
    }
  }
}

// --- stage 2: exceptions ---------------------------------------------------------

TEST_CASE("raises an exception of the body in the consumer at the step that ran into it" *
          doctest::skip(lab::check::stage() < 2)) {
  stepped* s = start_count_then_fail(2, fail_with_runtime_error);
  std::vector<int> values;
  int value = 0;
  bool raised = false;
  try {
    while (values.size() < 10 && next_value(s, value)) values.push_back(value);
  } catch (const std::runtime_error& e) {
    raised = std::string(e.what()) == "the body failed here";
  }
  stop(s);
  if (values != one_to(2))
    FAIL_CHECK("the values before the exception ", lab::check::first_difference(one_to(2), values));
  if (!raised)
    FAIL_CHECK("the exception the body threw after 2 values never reached the consumer: its step "
               "ended as if the generator had finished. unhandled_exception() must keep "
               "std::current_exception(), and the step that resumed the body must rethrow it");
}

TEST_CASE("frees its frame after an exception ended its body" * doctest::skip(lab::check::stage() < 2)) {
  const allocation_count count;
  stepped* s = start_count_then_fail(1, fail_with_runtime_error);
  int value = 0;
  try {
    while (next_value(s, value)) {
    }
  } catch (const std::runtime_error&) {
  }
  stop(s);
  if (count.left_behind() != 0)
    FAIL_CHECK("a generator whose body threw left ", count.left_behind(),
               " block(s) of memory behind: ", destroy_advice);
}

// --- stage 3: yield from -----------------------------------------------------------

TEST_CASE("hands over every value of a generator it co_yields before going on" *
          doctest::skip(lab::check::stage() < 3)) {
  const std::vector<int> expected = {7, 1, 2, 3, 9};
  const std::vector<int> got = drain(start_around(7, 3, 9));
  if (got != expected)
    FAIL_CHECK("around(7, 3, 9) yields 7, then co_yield count_to(3), then 9: ",
               lab::check::first_difference(expected, got),
               ". co_yield of a generator must hand over every one of its values, in order, "
               "before the outer body goes on (Python's yield from)");
  const std::vector<int> none = drain(start_around(7, 0, 9));
  if (none != std::vector<int>{7, 9})
    FAIL_CHECK("around(7, 0, 9), whose nested generator has no values, ",
               lab::check::first_difference(std::vector<int>{7, 9}, none));
}

TEST_CASE("yields from a generator that itself yields from another" *
          doctest::skip(lab::check::stage() < 3)) {
  const std::vector<int> expected = {100, 0, 1, 2, 0, 200};
  const std::vector<int> got = drain(start_two_deep(2));
  if (got != expected)
    FAIL_CHECK("two_deep(2) ", lab::check::first_difference(expected, got),
               ": a nested generator may itself co_yield a generator");
}

TEST_CASE("yields from a generator inside a range-for loop" * doctest::skip(lab::check::stage() < 3)) {
  const std::vector<int> expected = {1, 1, 2, 3};
  const std::vector<int> got = range_for_around(1, 2, 3);
  if (got != expected)
    FAIL_CHECK("for (int v : around(1, 2, 3)) ", lab::check::first_difference(expected, got));
}

TEST_CASE("frees every nested frame when destroyed in the middle of a nested generator" *
          doctest::skip(lab::check::stage() < 3)) {
  for (int taken : {2, 3, 4}) {
    const allocation_count count;
    drain(start_two_deep(3), taken);
    if (count.left_behind() != 0) {
      FAIL_CHECK("two_deep(3) destroyed after ", taken, " values left ", count.left_behind(),
                 " block(s) of memory behind: the frames of the generators it was yielding from "
                 "must go with it (destroy them in the promise's destructor, or the generator's)");
      break;
    }
  }
}

TEST_CASE("raises an exception of a nested generator in the consumer" *
          doctest::skip(lab::check::stage() < 3)) {
  stepped* s = start_around_a_failure(1, fail_with_runtime_error);
  std::vector<int> values;
  int value = 0;
  bool raised = false;
  try {
    while (values.size() < 10 && next_value(s, value)) values.push_back(value);
  } catch (const std::runtime_error& e) {
    raised = std::string(e.what()) == "the body failed here";
  }
  stop(s);
  if (values != std::vector<int>{-1, 1})
    FAIL_CHECK("the values before the exception ",
               lab::check::first_difference(std::vector<int>{-1, 1}, values));
  if (!raised)
    FAIL_CHECK("the exception thrown inside the nested generator never reached the consumer: the "
               "step that runs the nested generator must let it through");
}
