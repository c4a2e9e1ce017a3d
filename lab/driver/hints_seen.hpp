// Which hints a student has seen, stage by stage, as their progress record
// keeps it (progress.json, see state.hpp):
//
//   "hints_shown_by_stage": {"1": 2, "3": 1}    the first 2 hints of stage 1,
//   "hints_shown": 3                            the first of stage 3; in all, 3
//
// Records from before hints had stages hold only "hints_shown": N, meaning
// the first N hints in the order of info.json (the order they were shown
// in, which the hints keep). Such a record is read that way, and rewritten
// with stages the next time a hint is shown: a student's progress is never
// lost. "hints_shown" stays as the total, which `lab progress` shows and an
// older lab still reads.
#pragma once

#include <nlohmann/json.hpp>

#include "course.hpp"

namespace lab {

// How many hints of `stage` of `e` the student has seen (no more than the
// stage has). `record` is the exercise's progress record, or nullptr.
int hints_seen(const nlohmann::json* record, const exercise& e, int stage);

// Notes in `record` that the student has seen the first `count` hints of
// `stage`: a count already higher stays (another lab may have shown more
// meanwhile). Rewrites an old record with stages.
void record_hints_seen(nlohmann::json& record, const exercise& e, int stage, int count);

// The stage whose hints `lab hint NAME` shows, and why it is that one.
struct hint_stage {
  enum class reason {
    nothing_recorded,  // no run of the exercise is recorded: stage 1
    not_passed,        // the first stage the last runs did not pass
    all_passed,        // every stage passes: the last one
  };
  int stage = 1;
  reason why = reason::nothing_recorded;
};
hint_stage stage_for_hints(const nlohmann::json* record, const exercise& e);

}  // namespace lab
