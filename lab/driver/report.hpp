// Reports of exercise runs: the text a student reads, the JSON document tools
// read (--json, grade --format json), and JUnit XML for CI systems
// (grade --format junit; GitLab, Jenkins and GitHub test reporters read it).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "course.hpp"
#include "exercise_run.hpp"
#include "terminal.hpp"

namespace lab {

// The student-facing report, in three parts so that the verdict shows before
// the timings are run: build problems and one line per check; the timing
// table (its header, then rows as they are measured); what to do next.
// With `show_output` (--verbose), each check is followed by everything the
// program printed while it ran, passed or not: printf debugging.
void print_verdict(std::ostream& out, const exercise& e, const exercise_result& r, const style& s,
                   bool show_output = false);
void print_timing_header(std::ostream& out, const exercise& e, const exercise_result& r,
                         const style& s);
void print_timing_rows(std::ostream& out, const std::vector<timing_result>& rows);
void print_timing_footer(std::ostream& out, const exercise_result& r, const style& s);
void print_next_step(std::ostream& out, const exercise& e, const exercise_result& r,
                     const style& s);

// One JSON document: exercise, passed, checks (name, passed, message, stage,
// what the program printed during it: stdout, stderr),
// stages, timings (stage, workers, median_s, speedup, ...), build.
nlohmann::json exercise_json(const exercise_result& r);

// The grade report: one line per exercise, then the total.
void print_grade(std::ostream& out, const std::vector<exercise_result>& results, const style& s);
nlohmann::json grade_json(const std::vector<exercise_result>& results);

// JUnit XML: a <testsuite> per exercise, a <testcase> per check.
std::string grade_junit(const std::vector<exercise_result>& results);

// Escapes &, <, >, " and ' for XML text and attributes, and drops
// characters XML 1.0 does not allow (control characters from student output).
std::string xml_escape(const std::string& text);

}  // namespace lab
