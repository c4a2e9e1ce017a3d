// Grading a whole class at once (lab grade --class DIR): DIR holds one folder
// per student, named for the student, with that student's exercise files
// (DIR/alice/primes.cpp) or a clone of their copy of the course
// (DIR/alice/exercises/primes.cpp). Each student's files are put in turn into
// one work folder, .lab/class/ in the course, and graded there: the checks
// are compiled once, and each student's own files after that.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "course.hpp"
#include "exercise_run.hpp"
#include "terminal.hpp"

namespace lab {

struct student_result {
  std::string name;  // the student's folder name
  // One entry per exercise of the course, in its order; nullopt when the
  // student did not hand that exercise's file in.
  std::vector<std::optional<exercise_result>> exercises;
  int stages_passed() const;
  bool undecided() const;  // some stage could not be decided: grade again
  bool course_bug() const;  // the course's checks did not build
};

// The students' folders in `dir`, sorted by name (hidden ones skipped).
std::vector<std::filesystem::path> find_students(const std::filesystem::path& dir);

// Where a student handed in exercise `e`'s file, or "" if they did not. A
// symbolic link to a file outside the student's folder does not count.
std::filesystem::path handed_in(const std::filesystem::path& student, const exercise& e);

// Grades every student in `dir` with `options` (their source and timings are
// ignored: students' files, no timings). `on_student(name, index, count)` is
// called before each student. Stops early once *options.cancel is true, with
// the students graded whole before then. Throws std::filesystem::filesystem_error if
// the work folder cannot be made.
std::vector<student_result> grade_class(
    const course& c, const std::filesystem::path& dir, run_options options,
    const std::function<void(const std::string&, std::size_t, std::size_t)>& on_student = {});

// lab's exit code for a class: 3 if the course's checks are broken, 4 if some
// verdict could not be decided, else 0: a student's failure is a grade, not
// an error of the grading.
int exit_code_for(const std::vector<student_result>& students);

// The reports: a table (a row per student, stages passed per exercise), one
// JSON document (each graded exercise in full, as `lab exercise --json`),
// and CSV for a spreadsheet (student, stages passed per exercise, total).
void print_class(std::ostream& out, const course& c, const std::vector<student_result>& students,
                 const style& s);
nlohmann::json class_json(const course& c, const std::vector<student_result>& students);
std::string class_csv(const course& c, const std::vector<student_result>& students);

}  // namespace lab
