// The grade report as Gradescope's autograder reads it (results.json; see
// README, "Grading on Gradescope"): one test per stage of every exercise, one
// point each, so that every submission gets the same list of tests whatever
// it managed to build. The test's output lists its checks with their
// messages, which is what a student reads on Gradescope.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "course.hpp"
#include "exercise_run.hpp"

namespace lab {

// `results` holds one result per exercise of `c` that was graded, in any
// order; an exercise without a result (grading was interrupted) scores 0
// with "not graded" in its tests.
nlohmann::json grade_gradescope(const course& c, const std::vector<exercise_result>& results);

}  // namespace lab
