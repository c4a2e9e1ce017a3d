// Stepping, replaying and exploring the course's models. The counts are the
// combinatorics of the models, worked out by hand in the comments.
#include "machine.hpp"

#include <doctest/doctest.h>

#include "explore.hpp"

namespace {

lab::stepper::model course_model(const std::string& name) {
  return lab::stepper::load_model(lab::stepper::model_file(LAB_TEST_SOURCE_DIR, name));
}

long count_of(const lab::stepper::exploration& e, bool bad) {
  long total = 0;
  for (const auto& o : e.outcomes)
    if (o.bad == bad) total += o.count;
  return total;
}

}  // namespace

TEST_CASE("the lost update appears when both threads read before either writes") {
  const auto m = course_model("counter");
  std::string error;
  const auto lost = lab::stepper::replay(m, 2, "ABABAB", error);
  CHECK(error.empty());
  CHECK(lab::stepper::all_finished(m, lost));
  CHECK(lost.shared.at("n") == 1);
  CHECK(lab::stepper::is_bad(m, lost));
  const auto serial = lab::stepper::replay(m, 2, "AAABBB", error);
  CHECK(serial.shared.at("n") == 2);
  CHECK_FALSE(lab::stepper::is_bad(m, serial));
}

TEST_CASE("replaying a schedule twice gives the same world") {
  const auto m = course_model("bank");
  std::string error;
  const auto first = lab::stepper::replay(m, 2, "ABAB", error);
  const auto second = lab::stepper::replay(m, 2, "abab", error);  // letters in either case
  CHECK(first.shared == second.shared);
  CHECK(first.locals == second.locals);
  CHECK(first.next == second.next);
}

TEST_CASE("a schedule that names a finished thread or no thread says which step") {
  const auto m = course_model("counter");
  std::string error;
  lab::stepper::replay(m, 2, "AAAA", error);
  CHECK(error == "step 4: A has finished");
  lab::stepper::replay(m, 2, "AC", error);
  CHECK(error == "step 2: 'C' names no thread (threads are A to B)");
}

TEST_CASE("a thread cannot take a lock another thread holds") {
  const auto m = course_model("counter_locked");
  std::string error;
  const auto w = lab::stepper::replay(m, 2, "A", error);
  CHECK_FALSE(lab::stepper::can_step(m, w, 1));
  lab::stepper::replay(m, 2, "AB", error);
  CHECK(error == "step 2: B waits for a lock");
}

TEST_CASE("explore counts every interleaving of the counter") {
  // Two threads of 3 steps: C(6 3) = 20 orders. Only the two where one
  // thread finishes before the other reads keep both updates.
  const auto e = lab::stepper::explore(course_model("counter"), 2);
  CHECK(e.interleavings == 20);
  CHECK(count_of(e, false) == 2);
  CHECK(count_of(e, true) == 18);
  // Three threads: 9! / (3! 3! 3!) = 1680 orders; only the 3! = 6 serial ones are right.
  const auto three = lab::stepper::explore(course_model("counter"), 3);
  CHECK(three.interleavings == 1680);
  CHECK(count_of(three, false) == 6);
}

TEST_CASE("explore finds no lost update once the counter is locked") {
  // The lock makes each thread's body one block: A then B, or B then A.
  const auto e = lab::stepper::explore(course_model("counter_locked"), 2);
  CHECK(e.interleavings == 2);
  CHECK(count_of(e, true) == 0);
}

TEST_CASE("explore finds the double withdrawal in most orders of the bank") {
  // 20 orders. It is safe only if one thread checks after the other has
  // deducted: B's three steps all after A's first two, with A's last step in
  // any of 4 places among them; 4 orders, and 4 for the mirror: 8.
  const auto e = lab::stepper::explore(course_model("bank"), 2);
  CHECK(e.interleavings == 20);
  CHECK(count_of(e, false) == 8);
  for (const auto& o : e.outcomes)
    if (o.bad) CHECK(o.text == "balance = -25, paid out 50");
}
