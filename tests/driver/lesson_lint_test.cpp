// The lessons' lint: glitches a reader trips over that a machine can see,
// beyond what the parser refuses (lesson_test.cpp) and what the course's
// references must satisfy (course_content_test.cpp). Each rule turns a lesson
// into problems, "05-gil.md:231: what is wrong"; every rule must find nothing
// in lessons/, and must find its glitch in a sample lesson that has it (so a
// rule that stopped working cannot pass unnoticed).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "lesson.hpp"

namespace {

namespace fs = std::filesystem;

// A lesson with the lines of its file, for rules that need the text as written.
struct lesson_source {
  lab::lesson lesson;
  std::vector<std::string> lines;  // lines[0] is line 1
};

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The course's lessons; a lesson that does not parse is course_content_test's business.
const std::vector<lesson_source>& lesson_sources() {
  static const std::vector<lesson_source> sources = [] {
    std::vector<lesson_source> all;
    for (auto& l : lab::load_lessons(fs::path(LAB_TEST_SOURCE_DIR) / "lessons").lessons) {
      auto lines = split_lines(read_file(l.file));
      all.push_back({std::move(l), std::move(lines)});
    }
    return all;
  }();
  return sources;
}

// "05-gil.md:12: what".
std::string problem(const lesson_source& s, int line, const std::string& what) {
  return s.lesson.file.filename().string() + ":" + std::to_string(line) + ": " + what;
}

// One line of a slide's prose and where it is in the file.
struct prose_line {
  int line = 0;
  std::string text;
};

// The lines of a slide's prose: its title, then its body outside code blocks
// (the body has no directive blocks: they are found again in the file, in
// order, to give each line its number).
std::vector<prose_line> prose_lines(const lesson_source& s, const lab::slide& sl) {
  std::vector<prose_line> prose = {{sl.line, sl.title}};
  std::size_t next = static_cast<std::size_t>(sl.line);  // index of the line after the title
  bool in_code = false;
  for (const auto& text : split_lines(sl.body)) {
    std::size_t at = next;
    while (at < s.lines.size() && s.lines[at] != text) ++at;
    const int line = at < s.lines.size() ? static_cast<int>(at + 1) : sl.line;
    if (at < s.lines.size()) next = at + 1;
    if (text.rfind("```", 0) == 0) {
      in_code = !in_code;
      continue;
    }
    if (!in_code) prose.push_back({line, text});
  }
  return prose;
}

using rule = std::vector<std::string> (*)(const lesson_source&);

// The last slide has no next one to point to.
std::vector<std::string> next_slide_on_last_slide(const lesson_source& s) {
  std::vector<std::string> found;
  const lab::slide& last = s.lesson.slides.back();
  static const std::regex next_slide("next slide", std::regex::icase);
  for (const auto& [line, text] : prose_lines(s, last))
    if (std::regex_search(text, next_slide))
      found.push_back(
          problem(s, line, "\"next slide\" on the last slide of the lesson: there is none"));
  return found;
}

// After the last slide lab prints "Next: `exercise NAME`" once for each
// exercise pointer of the lesson: an exercise pointed to twice prints twice.
// A "Next:" line written in the slides must not repeat either.
std::vector<std::string> repeated_next(const lesson_source& s) {
  std::vector<std::string> found;
  std::map<std::string, int> first_pointer, first_next_line;
  for (const auto& sl : s.lesson.slides) {
    for (const auto& [line, text] : prose_lines(s, sl)) {
      if (text.rfind("Next:", 0) != 0) continue;
      const auto [at, fresh] = first_next_line.emplace(text, line);
      if (!fresh)
        found.push_back(problem(
            s, line, "\"" + text + "\" again (first at line " + std::to_string(at->second) + ")"));
    }
    if (sl.exercise) {  // a slide's pointer comes last on it
      const auto [at, fresh] = first_pointer.emplace(sl.exercise->name, sl.exercise->line);
      if (!fresh)
        found.push_back(problem(s, sl.exercise->line,
                                "a second pointer to exercise " + sl.exercise->name +
                                    " (the first is at line " + std::to_string(at->second) +
                                    "): the lesson's end would say \"Next:\" twice"));
    }
  }
  return found;
}

// "lecture 003", "lectures 001 ... and 004": numbers a student cannot look up.
std::vector<std::string> lecture_numbers(const lesson_source& s) {
  std::vector<std::string> found;
  static const std::regex by_number(
      "lectures? +[0-9]"                                  // "lecture 3", "Lectures 001 (...)"
      "|(^|[ (\u2013-])0[0-9][0-9](?![0-9]|[.,'][0-9])",  // "and 004", not "0.064" or "10,000"
      std::regex::icase);
  for (const auto& sl : s.lesson.slides)
    for (const auto& [line, text] : prose_lines(s, sl))
      if (std::regex_search(text, by_number))
        found.push_back(problem(s, line,
                                "a lecture cited by number: name its subject instead "
                                "(\"the primes lecture\", lessons/README.md)"));
  return found;
}

// Only "-" and "*" start list items: "2." on the line after text is glued
// onto that text when the slide is re-wrapped.
std::vector<std::string> glued_numbered_items(const lesson_source& s) {
  std::vector<std::string> found;
  static const std::regex numbered_item(" *[0-9]+[.)] .*");
  for (const auto& sl : s.lesson.slides) {
    const auto prose = prose_lines(s, sl);
    for (std::size_t i = 2; i < prose.size(); ++i)  // prose[0] is the title
      if (std::regex_match(prose[i].text, numbered_item) &&
          prose[i - 1].text.find_first_not_of(' ') != std::string::npos)
        found.push_back(problem(s, prose[i].line,
                                "a numbered item glued to the line before: the renderer runs "
                                "them into one paragraph; use a \"-\" list"));
  }
  return found;
}

// lessons/README.md: "Keep lines to 100 characters".
std::vector<std::string> long_lines(const lesson_source& s) {
  std::vector<std::string> found;
  for (std::size_t i = 0; i < s.lines.size(); ++i)
    if (s.lines[i].size() > 100)
      found.push_back(problem(s, static_cast<int>(i + 1),
                              std::to_string(s.lines[i].size()) + " characters, over 100"));
  return found;
}

// A folder on somebody's machine means nothing on a student's.
const std::regex machine_path("(^|[\\s`(\"'])(/work/|/home/|/Users/|/root/|[A-Z]:\\\\)");

std::vector<std::string> machine_paths(const lesson_source& s) {
  std::vector<std::string> found;
  for (std::size_t i = 0; i < s.lines.size(); ++i)
    if (std::regex_search(s.lines[i], machine_path))
      found.push_back(problem(s, static_cast<int>(i + 1),
                              "a path on some machine: describe where the thing is instead"));
  return found;
}

// Every problem `check` finds in the course's lessons, as failures.
void expect_none(rule check) {
  REQUIRE(lesson_sources().size() >= 10);
  for (const auto& s : lesson_sources())
    for (const auto& found : check(s)) FAIL_CHECK(found);
}

// A lesson with one of each glitch, as the lessons had them.
lesson_source sample_with_glitches() {
  const std::string text =
      "# Sample\n"
      "\n"
      "Follows lectures 001 (the primes exercise) and 004 (the $25 race), as in 000\u2013004.\n"
      "---\n"
      "## Build it\n"
      "\n"
      "In two steps:\n"
      "\n"
      "1. a lock threads can wait for;\n"
      "2. the handoff.\n"
      "\n"
      "The slides are in `/work/shared/slides/`. This line is longer than a hundred characters, "
      "which is too long.\n"
      "\n"
      "```exercise\n"
      "primes\n"
      "```\n"
      "---\n"
      "## Questions\n"
      "\n"
      "- How would you build it yourself? (Next slide.)\n"
      "\n"
      "Next: open locks\n"
      "Next: open locks\n"
      "\n"
      "```exercise\n"
      "primes\n"
      "```\n";
  lab::lesson l = lab::parse_lesson("lessons/05-sample.md", text);
  return {std::move(l), split_lines(text)};
}

// What `check` finds in the sample.
std::vector<std::string> in_sample(rule check) {
  return check(sample_with_glitches());
}

}  // namespace

TEST_CASE("no lesson says next slide on its last slide") {
  expect_none(next_slide_on_last_slide);
}

TEST_CASE("no lesson points to an exercise twice or repeats a Next line") {
  expect_none(repeated_next);
}

TEST_CASE("no lesson cites a lecture by number") {
  expect_none(lecture_numbers);
}

TEST_CASE("no numbered list item in a lesson is glued to the line before it") {
  expect_none(glued_numbered_items);
}

TEST_CASE("no lesson line is longer than 100 characters") {
  expect_none(long_lines);
}

TEST_CASE("no lesson and not the lessons README points to a path on some machine") {
  expect_none(machine_paths);
  const auto readme = split_lines(read_file(fs::path(LAB_TEST_SOURCE_DIR) / "lessons/README.md"));
  REQUIRE_FALSE(readme.empty());
  for (std::size_t i = 0; i < readme.size(); ++i) {
    INFO("lessons/README.md:", i + 1, ": ", readme[i]);
    CHECK_FALSE(std::regex_search(readme[i], machine_path));
  }
}

TEST_CASE("each lint rule finds its glitch in a sample lesson that has it") {
  const auto next_slide = in_sample(next_slide_on_last_slide);
  REQUIRE(next_slide.size() == 1);
  CHECK(next_slide[0].rfind("05-sample.md:20: \"next slide\" on the last slide", 0) == 0);

  const auto repeated = in_sample(repeated_next);
  REQUIRE(repeated.size() == 2);
  CHECK(repeated[0] == "05-sample.md:23: \"Next: open locks\" again (first at line 22)");
  CHECK(repeated[1].rfind("05-sample.md:25: a second pointer to exercise primes (the first is at "
                          "line 14)",
                          0) == 0);

  const auto numbers = in_sample(lecture_numbers);
  REQUIRE(numbers.size() == 1);  // one line, however many numbers it cites
  CHECK(numbers[0].rfind("05-sample.md:3: a lecture cited by number", 0) == 0);
  const std::string not_lectures = "# S\n\nat 0.064 ms, 10,000 clients, 1'000'000 steps\n";
  CHECK(lecture_numbers(
            {lab::parse_lesson("lessons/05-sample.md", not_lectures), split_lines(not_lectures)})
            .empty());

  const auto glued = in_sample(glued_numbered_items);
  REQUIRE(glued.size() == 1);
  CHECK(glued[0].rfind("05-sample.md:10: a numbered item glued", 0) == 0);

  const auto long_ones = in_sample(long_lines);
  REQUIRE(long_ones.size() == 1);
  CHECK(long_ones[0].rfind("05-sample.md:12: ", 0) == 0);

  const auto paths = in_sample(machine_paths);
  REQUIRE(paths.size() == 1);
  CHECK(paths[0].rfind("05-sample.md:12: a path on some machine", 0) == 0);
}
