// The hidden-check harness: what a check file under checks/<exercise>/ uses.
//
// A check file is a doctest file: each TEST_CASE is one check, named as a
// sentence ("finds the primes below 50 with 5 workers"). The harness's
// main() runs them with a reporter that sends protocol events (one line each)
// over the result channel, so lab never has to scrape what the student's
// code prints. lab/protocol.hpp describes the channel and the environment
// lab sets: the stage, the seed, checks or time mode, and in time mode what
// to time (one warm-up run, then the timed repeats of the stage's timed
// body). Run by hand, without a channel, a check program prints doctest's
// usual report instead.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

// doctest shows a `const char*` in a message as an address ("tested by 1
// 0x55f1..."), since it cannot tell a string from any other pointer; a
// condition such as `processes ? "process" : "thread"` is one. In a check's
// message it is always meant as text, so it is shown as text here (nullptr
// as "nullptr"). tests/e2e/submissions_test.cpp renders every check's
// failure messages and fails on an address that still gets through.
template <>
struct doctest::StringMaker<const char*> {
  static doctest::String convert(const char* text) { return text != nullptr ? text : "nullptr"; }
};
template <>
struct doctest::StringMaker<char*> {
  static doctest::String convert(const char* text) {
    return doctest::StringMaker<const char*>::convert(text);
  }
};

namespace lab::check {

// The stage under check (protocol::env::check_stage); protocol::defaults::stage
// if not set.
int stage();

// The run's seed (protocol::env::check_seed); protocol::defaults::seed if not
// set. Checks derive every random input from it, so a failure can be
// replayed with `--seed`.
std::uint64_t seed();

// True when the harness was built with ThreadSanitizer; checks use smaller
// inputs then, since TSan makes code 5-15x slower.
bool under_tsan();

// Registers the body that "time" mode runs for one stage: body(size, workers).
struct timed {
  timed(int stage, std::function<void(long size, int workers)> body);
};

// Where two sequences first differ, in words, for a failure message:
// "differs first at index 3: expected 7, got 9 (15 expected, 14 got)", or ""
// when they are equal. doctest alone prints vectors as {?} == {?}.
template <typename T>
std::string first_difference(const std::vector<T>& expected, const std::vector<T>& got) {
  std::ostringstream text;
  const std::size_t common = std::min(expected.size(), got.size());
  std::size_t at = 0;
  while (at < common && expected[at] == got[at]) ++at;
  if (at == common && expected.size() == got.size()) return "";
  text << "differs first at index " << at << ": ";
  if (at < expected.size())
    text << "expected " << expected[at];
  else
    text << "expected nothing more";
  text << ", ";
  if (at < got.size())
    text << "got " << got[at];
  else
    text << "got nothing more";
  text << " (" << expected.size() << " expected, " << got.size() << " got)";
  return text.str();
}

// Threads in this process now (entries in /proc/self/task).
std::size_t thread_count();

// Waits up to `patience` for the thread count to fall to `baseline` (a
// thread that was joined or finished may take a moment to vanish from
// /proc). Returns the last count seen.
std::size_t wait_for_threads(std::size_t baseline, std::chrono::milliseconds patience);

// Child processes of this process that were left behind.
struct children_left {
  int running = 0;     // still alive: killed and reaped by this call
  int not_waited = 0;  // finished but never waited for (zombies): reaped by this call
};
// Finds the children left behind, cleans them up so the next check starts
// clean, and says how many there were.
children_left collect_children();

}  // namespace lab::check
