// Which hints a student has seen, by stage (lab/driver/hints_seen.cpp), and
// how records from before hints had stages are read and rewritten.
#include "hints_seen.hpp"

#include <doctest/doctest.h>

namespace {

using json = nlohmann::json;

// Three stages; hints in course order: stage 1, 1, 2, 3, 3.
lab::exercise three_stages() {
  lab::exercise e;
  e.name = "primes";
  e.stages = {{1, "threads"}, {2, "a pool"}, {3, "processes"}};
  e.hints = {{1, "a"}, {1, "b"}, {2, "c"}, {3, "d"}, {3, "e"}};
  return e;
}

}  // namespace

TEST_CASE("nothing recorded means no hint seen and hints for stage 1") {
  const auto e = three_stages();
  CHECK(lab::hints_seen(nullptr, e, 1) == 0);
  const auto chosen = lab::stage_for_hints(nullptr, e);
  CHECK(chosen.stage == 1);
  CHECK(chosen.why == lab::hint_stage::reason::nothing_recorded);
  const json fresh = {{"status", "not started"}, {"hints_shown", 0}};
  CHECK(lab::stage_for_hints(&fresh, e).stage == 1);
}

TEST_CASE("hints are for the first stage not passed and for the last when all pass") {
  const auto e = three_stages();
  const json first_failing = {{"stages_passed", {1, 3}}};
  CHECK(lab::stage_for_hints(&first_failing, e).stage == 2);
  CHECK(lab::stage_for_hints(&first_failing, e).why == lab::hint_stage::reason::not_passed);
  const json none_passed = {{"stages_passed", json::array()}};
  CHECK(lab::stage_for_hints(&none_passed, e).stage == 1);
  const json all_passed = {{"stages_passed", {1, 2, 3}}};
  CHECK(lab::stage_for_hints(&all_passed, e).stage == 3);
  CHECK(lab::stage_for_hints(&all_passed, e).why == lab::hint_stage::reason::all_passed);
}

TEST_CASE("an old record's one count is read as the first hints in course order") {
  const auto e = three_stages();
  const json old = {{"status", "failing"}, {"hints_shown", 4}};  // a, b, c, d
  CHECK(lab::hints_seen(&old, e, 1) == 2);
  CHECK(lab::hints_seen(&old, e, 2) == 1);
  CHECK(lab::hints_seen(&old, e, 3) == 1);
  const json too_many = {{"hints_shown", 40}};
  CHECK(lab::hints_seen(&too_many, e, 3) == 2);
}

TEST_CASE("showing a hint rewrites an old record with stages and keeps what it held") {
  const auto e = three_stages();
  json record = {{"status", "failing"}, {"hints_shown", 3}, {"stages_passed", {1}}};
  lab::record_hints_seen(record, e, 3, 1);
  CHECK(record["hints_shown_by_stage"] == json({{"1", 2}, {"2", 1}, {"3", 1}}));
  CHECK(record["hints_shown"] == 4);  // the total, for lab progress and older labs
  CHECK(record["status"] == "failing");
  CHECK(record["stages_passed"] == json({1}));
  CHECK(lab::hints_seen(&record, e, 1) == 2);
  CHECK(lab::hints_seen(&record, e, 3) == 1);
}

TEST_CASE("a stage's count never goes down and other stages keep theirs") {
  const auto e = three_stages();
  json record = json::object();
  lab::record_hints_seen(record, e, 1, 2);
  lab::record_hints_seen(record, e, 1, 1);  // another lab had shown fewer
  lab::record_hints_seen(record, e, 2, 1);
  CHECK(lab::hints_seen(&record, e, 1) == 2);
  CHECK(lab::hints_seen(&record, e, 2) == 1);
  CHECK(lab::hints_seen(&record, e, 3) == 0);
  CHECK(record["hints_shown"] == 3);
}

TEST_CASE("a hand-edited record with counts of the wrong type counts nothing and breaks nothing") {
  const auto e = three_stages();
  const json odd = {{"hints_shown_by_stage", {{"1", "two"}, {"x", 3}}}, {"stages_passed", "1"}};
  CHECK(lab::hints_seen(&odd, e, 1) == 0);
  CHECK(lab::stage_for_hints(&odd, e).stage == 1);
  const json odd_total = {{"hints_shown", "3"}};
  CHECK(lab::hints_seen(&odd_total, e, 1) == 0);
}
