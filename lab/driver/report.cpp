#include "report.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include "invocation.hpp"

namespace lab {
namespace {

using json = nlohmann::json;

const char* const source_name[] = {"exercise", "solution"};

std::string code_path(const exercise& e, code_source source) {
  return (source == code_source::exercise ? "exercises/" : "solutions/") + e.file;
}

void print_build_failure(std::ostream& out, const exercise_result& r, const style& s) {
  out << s.fail_mark() << " " << s.strong(r.build.summary) << "\n";
  if (!r.build.diagnostics.empty()) out << "\n" << r.build.diagnostics;
}

// --verbose shows at most this many lines of one check's output per stream,
// half from its start and half from its end (where a crash left its last
// words), each line cut to line_chars_shown characters.
constexpr std::size_t lines_shown = 100;
constexpr std::size_t line_chars_shown = 500;

// Prints `text`, what the program printed on `stream`, set apart from lab's
// own words: a heading, then each line behind a bar.
void print_printed(std::ostream& out, const char* stream, const std::string& text, const style& s) {
  if (text.empty()) return;
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  out << s.note(fmt::format("      your program printed on {}:", stream)) << "\n";
  const std::size_t hidden = lines.size() > lines_shown ? lines.size() - lines_shown : 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (hidden > 0 && i == lines_shown / 2) {
      out << s.note(fmt::format("      │ ... {} lines not shown ...", hidden)) << "\n";
      i += hidden - 1;
      continue;
    }
    const std::string& line = lines[i];
    out << s.note("      │ ")
        << (line.size() > line_chars_shown ? line.substr(0, line_chars_shown) + "..." : line)
        << "\n";
  }
}

// Everything the program printed during one check (or outside the checks),
// saying so when lab's cap on captured output dropped some of it.
void print_check_output(std::ostream& out, const check_output& printed, std::size_t cap,
                        const style& s) {
  print_printed(out, "stdout", printed.out, s);
  print_printed(out, "stderr", printed.err, s);
  if (!printed.complete)
    out << s.note(fmt::format(
               "      (cut: lab keeps the first {} KB a run prints on each stream; the rest of "
               "this output was dropped)",
               cap >> 10))
        << "\n";
}

// One check's line, and under it what the program printed: everything
// with `show_output`, else the last lines of one that crashed or hung.
void print_check(std::ostream& out, const check_result& check, std::size_t output_cap,
                 bool show_output, const style& s) {
  if (check.passed) {
    out << "  " << s.pass_mark() << " " << check.name;
    if (!check.note.empty()) out << s.note(" (" + check.note + ")");
    out << "\n";
  } else {
    out << "  " << (check.undecided ? s.undecided_mark() : s.fail_mark()) << " " << check.name;
    if (!check.message.empty()) out << s.note(" — ") << check.message;
    out << "\n";
  }
  const bool printed = !check.printed.empty() || !check.printed.complete;
  if (show_output && printed) {
    print_check_output(out, check.printed, output_cap, s);
  } else if (!check.output.empty()) {  // the program's own words, set apart from lab's
    out << s.note("      your program printed (last lines):") << "\n";
    std::istringstream lines(check.output);
    for (std::string line; std::getline(lines, line);) out << s.note("      │ ") << line << "\n";
  }
}

void print_stage(std::ostream& out, const stage_result& stage, std::size_t output_cap,
                 bool show_output, const style& s) {
  out << "\n" << s.strong(fmt::format("Stage {}", stage.number));
  if (!stage.title.empty()) out << s.strong(": " + stage.title);
  if (stage.interrupted) {
    out << s.note(stage.checks.empty() ? "  (not run: interrupted)"
                                       : "  (interrupted: no verdict, nothing recorded)");
    if (stage.checks.empty()) {
      out << "\n";
      return;
    }
  }
  if (stage.not_started()) {
    // Every check stopped at the stub's TODO: one line says it all.
    auto todo = std::find_if(stage.checks.begin(), stage.checks.end(),
                             [](const check_result& c) { return c.todo; });
    out << "\n  " << s.fail_mark() << " " << todo->message << "\n";
    if (show_output)  // what it printed on its way to the TODO
      for (const auto& check : stage.checks)
        if (!check.printed.empty()) {
          out << "    " << check.name << "\n";
          print_check_output(out, check.printed, output_cap, s);
        }
  } else {
    out << "\n";
    for (const auto& check : stage.checks) print_check(out, check, output_cap, show_output, s);
  }
  if (show_output && !stage.printed_outside.empty()) {
    out << s.note(
               "    outside the checks (static initialisers, threads still running after "
               "their check):")
        << "\n";
    print_check_output(out, stage.printed_outside, output_cap, s);
  }
}

json check_json(const check_result& c, int stage) {
  return {{"name", c.name},
          {"passed", c.passed},
          {"message", c.message},
          {"stage", stage},
          {"todo", c.todo},
          {"not_run", c.not_run},
          {"seconds", c.seconds},
          {"note", c.note},
          {"undecided", c.undecided},
          {"output", c.output},
          {"stdout", c.printed.out},
          {"stderr", c.printed.err},
          {"output_complete", c.printed.complete}};
}

// The attribute-safe one-line form of a failure message.
std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

void print_verdict(std::ostream& out, const exercise& e, const exercise_result& r, const style& s,
                   bool show_output) {
  out << s.strong(fmt::format("{}: {}", e.name, e.title))
      << s.note(fmt::format("  ({})", code_path(e, r.source))) << "\n";
  if (!r.build.ok) {
    print_build_failure(out, r, s);
    return;
  }
  for (const auto& note : r.notes) out << s.note("  (note: " + note + ")") << "\n";
  for (const auto& stage : r.stages)
    print_stage(out, stage, e.profile.output_cap_bytes, show_output, s);
  if (!r.passed())
    out << s.note(fmt::format("\n  Inputs come from seed {}; --seed S replays another.", r.seed))
        << "\n";
}

void print_timing_header(std::ostream& out, const exercise& e, const exercise_result& r,
                         const style& s) {
  out << "\n"
      << s.strong(
             fmt::format("Timings: median of {} runs after a warm-up, input size {}, {} core{}",
                         e.timing->repeats, e.timing->size, r.cores, r.cores == 1 ? "" : "s"))
      << "\n";
  out << fmt::format("  {:<28} {:>7} {:>10} {:>9} {:>9}\n", "", "workers", "median", "speedup",
                     "of ideal");
}

void print_timing_rows(std::ostream& out, const std::vector<timing_result>& rows) {
  for (const auto& t : rows) {
    if (!t.error.empty()) {
      out << fmt::format("  {:<28} {:>7}   could not time: {}\n", t.label, t.workers, t.error);
      continue;
    }
    const std::string speedup = t.speedup > 0 ? fmt::format("{:.2f}x", t.speedup) : "";
    const std::string ideal =
        t.workers > 1 && t.efficiency > 0 ? fmt::format("{:.0f}%", t.efficiency * 100) : "";
    out << fmt::format("  {:<28} {:>7} {:>8.3f} s {:>9} {:>9}\n", t.label, t.workers, t.median,
                       speedup, ideal);
  }
  out.flush();
}

void print_timing_footer(std::ostream& out, const exercise_result& r, const style& s) {
  out << s.note(fmt::format(
             "  speedup = time with 1 worker / time with N; ideal = min(N, {} cores).", r.cores))
      << "\n";
  for (const auto& warning : r.timing_warnings) out << s.bad("  " + warning) << "\n";
}

void print_next_step(std::ostream& out, const exercise& e, const exercise_result& r,
                     const style& s) {
  const auto passed = std::count_if(r.stages.begin(), r.stages.end(),
                                    [](const stage_result& x) { return x.passed(); });
  const char* plural = r.stages.size() == 1 ? "" : "s";
  out << "\n";
  if (r.passed() && r.stages.size() == 1 && e.stages.size() > 1) {  // --stage N
    out << s.good(fmt::format("Stage {} of {} of {} passes.", r.stages.front().number,
                              e.stages.size(), e.name));
  } else if (r.passed()) {
    out << s.good(fmt::format("All {} stage{} of {} pass.", r.stages.size(), plural, e.name));
    if (r.source == code_source::exercise && !e.lesson.empty())
      out << " Back to the lesson: " << lab_command("lesson " + e.lesson);
  } else if (std::any_of(r.stages.begin(), r.stages.end(),
                         [](const stage_result& x) { return x.interrupted; })) {
    const auto stopped = std::count_if(r.stages.begin(), r.stages.end(),
                                       [](const stage_result& x) { return x.interrupted; });
    out << s.note(fmt::format("Interrupted: {} of {} stage{} pass, {} without a verdict.", passed,
                              r.stages.size(), plural, stopped));
  } else {
    out << s.bad(fmt::format("{} of {} stage{} pass.", passed, r.stages.size(), plural));
    if (r.source == code_source::exercise)
      out << fmt::format(" Edit {}; stuck? {}", code_path(e, r.source),
                         lab_command("hint " + e.name));
  }
  out << "\n";
}

json exercise_json(const exercise_result& r) {
  json checks = json::array(), stages = json::array(), timings = json::array();
  for (const auto& stage : r.stages) {
    json stage_checks = json::array();
    for (const auto& check : stage.checks) {
      checks.push_back(check_json(check, stage.number));
      stage_checks.push_back(check_json(check, stage.number));
    }
    stages.push_back({{"stage", stage.number},
                      {"title", stage.title},
                      {"passed", stage.passed()},
                      {"interrupted", stage.interrupted},
                      {"problem", stage.problem},
                      {"checks", stage_checks}});
  }
  for (const auto& t : r.timings) {
    timings.push_back({{"stage", t.stage},
                       {"label", t.label},
                       {"native", t.native},
                       {"workers", t.workers},
                       {"median_s", t.median},
                       {"samples_s", t.samples},
                       {"speedup", t.speedup},
                       {"efficiency", t.efficiency},
                       {"error", t.error}});
  }
  return {{"exercise", r.exercise},
          {"source", source_name[static_cast<int>(r.source)]},
          {"passed", r.passed()},
          {"undecided", r.undecided()},
          {"seed", r.seed},
          {"cores", r.cores},
          {"build",
           {{"ok", r.build.ok},
            {"rebuilt", r.build.rebuilt},
            {"seconds", r.build.seconds},
            {"summary", r.build.summary},
            {"course_bug", r.build.course_bug},
            {"diagnostics", r.build.diagnostics}}},
          {"checks", checks},
          {"stages", stages},
          {"timings", timings},
          {"timing_warnings", r.timing_warnings}};
}

void print_grade(std::ostream& out, const std::vector<exercise_result>& results, const style& s) {
  std::size_t passed = 0, undecided = 0;
  for (const auto& r : results) {
    const auto stages_passed = std::count_if(r.stages.begin(), r.stages.end(),
                                             [](const stage_result& x) { return x.passed(); });
    std::string detail =
        r.build.ok ? fmt::format("{}/{} stages", stages_passed, r.stages.size()) : r.build.summary;
    const std::string mark =
        r.passed() ? s.pass_mark() : r.undecided() ? s.undecided_mark() : s.fail_mark();
    out << mark << " " << fmt::format("{:<16} ", r.exercise) << detail << "\n";
    if (!r.build.ok) continue;
    for (const auto& stage : r.stages)
      for (const auto& check : stage.checks)
        if (!check.passed && !check.not_run)
          out << "    "
              << s.note(fmt::format("stage {}: {} — {}", stage.number, check.name,
                                    first_line(check.message)))
              << "\n";
    if (r.passed()) ++passed;
    if (r.undecided()) ++undecided;
  }
  out << fmt::format("\n{} passed, {} failed", passed, results.size() - passed - undecided);
  if (undecided > 0)
    out << fmt::format(", {} undecided (the machine was too busy to decide; run again)", undecided);
  out << "\n";
}

json grade_json(const std::vector<exercise_result>& results) {
  json exercises = json::array();
  std::size_t passed = 0;
  for (const auto& r : results) {
    exercises.push_back(exercise_json(r));
    if (r.passed()) ++passed;
  }
  return {{"passed", passed == results.size()},
          {"passed_count", passed},
          {"failed_count", results.size() - passed},
          {"exercises", exercises}};
}

std::string xml_escape(const std::string& text) {
  std::string escaped;
  for (char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        escaped += "&amp;";
        break;
      case '<':
        escaped += "&lt;";
        break;
      case '>':
        escaped += "&gt;";
        break;
      case '"':
        escaped += "&quot;";
        break;
      case '\'':
        escaped += "&apos;";
        break;
      default:
        if (byte < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') break;  // not allowed in XML 1.0
        escaped += ch;
    }
  }
  return escaped;
}

std::string grade_junit(const std::vector<exercise_result>& results) {
  std::string suites;
  std::size_t total_tests = 0, total_failures = 0;
  for (const auto& r : results) {
    std::string cases;
    std::size_t tests = 0, failures = 0, errors = 0;
    double seconds = r.build.seconds;
    // An undecided check is an <error> (the run could not judge it), not a
    // <failure> of the student's code.
    const auto add_case = [&](const std::string& classname, const std::string& name, double time,
                              bool passed, const std::string& message, bool undecided = false) {
      ++tests;
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"",
                           xml_escape(classname), xml_escape(name), time);
      if (passed) {
        cases += "/>\n";
        return;
      }
      const char* element = undecided ? "error" : "failure";
      ++(undecided ? errors : failures);
      cases += fmt::format(">\n      <{} message=\"{}\">{}</{}>\n    </testcase>\n", element,
                           xml_escape(first_line(message)), xml_escape(message), element);
    };
    if (!r.build.ok) {
      add_case(r.exercise, "compiles", r.build.seconds, false,
               r.build.summary + "\n" + r.build.diagnostics);
    }
    for (const auto& stage : r.stages) {
      for (const auto& check : stage.checks) {
        add_case(fmt::format("{}.stage{}", r.exercise, stage.number), check.name, check.seconds,
                 check.passed, check.message, check.undecided);
        seconds += check.seconds;
      }
    }
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n{}  "
        "</testsuite>\n",
        xml_escape(r.exercise), tests, failures, errors, seconds, cases);
    total_tests += tests;
    total_failures += failures;
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"lab\" tests=\"{}\" "
      "failures=\"{}\">\n{}</testsuites>\n",
      total_tests, total_failures, suites);
}

}  // namespace lab
