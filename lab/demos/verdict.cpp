#include "verdict.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace lab::demos {
namespace {

// Decimals a figure is printed with, by unit: the verdict compares the
// figures as printed, so that it always agrees with what the reader sees.
int decimals(const std::string& unit) {
  if (unit == "x") return 2;
  if (unit == "ms") return 3;
  if (unit == "%") return 1;
  return 0;  // a count: "3 of 4 results"
}

double as_printed(double value, const std::string& unit) {
  const double scale = std::pow(10.0, decimals(unit));
  return std::round(value * scale) / scale;
}

std::string figure_text(double value, const std::string& unit) {
  const bool word = !unit.empty() && unit != "x" && unit != "%";  // "3.000 ms", "1.50x", "12.5%"
  return fmt::format("{:.{}f}{}{}", value, decimals(unit), word ? " " : "", unit);
}

// "at least 1.50x", "at most 3", "between 0.50x and 1.50x".
std::string expectation(const claim& c) {
  switch (c.direction) {
    case expect::at_least:
      return "at least " + figure_text(c.bound, c.unit);
    case expect::at_most:
      return "at most " + figure_text(c.bound, c.unit);
    case expect::between:
      return fmt::format("between {} and {}", figure_text(c.low, c.unit),
                         figure_text(c.bound, c.unit));
  }
  return "";
}

std::string plural(unsigned n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// Demos print for a terminal of 95 columns, like their tables.
constexpr std::size_t line_width = 95;

// `text` (one paragraph) broken into lines of at most `width` characters,
// between words.
std::string wrapped(const std::string& text, std::size_t width) {
  std::string out;
  std::size_t line_start = 0;
  std::size_t word_start = 0;
  while (word_start < text.size()) {
    std::size_t word_end = text.find(' ', word_start);
    if (word_end == std::string::npos) word_end = text.size();
    const std::string word = text.substr(word_start, word_end - word_start);
    if (out.size() > line_start && out.size() - line_start + 1 + word.size() > width) {
      out += '\n';
      line_start = out.size();
    } else if (out.size() > line_start) {
      out += ' ';
    }
    out += word;
    word_start = word_end + 1;
  }
  return out;
}

// `text` with every line after the first indented like the first.
std::string indented(const std::string& text, const std::string& indent) {
  std::string out = indent;
  for (char ch : text) {
    out += ch;
    if (ch == '\n') out += indent;
  }
  return out;
}

std::string nproc_text(const load_figures& m) {
  return fmt::format("nproc {}, {} on the machine", m.usable_cores, m.machine_cores);
}

}  // namespace

std::string too_short_cause(double seconds, const std::string& raise) {
  if (seconds >= shortest_useful_run_seconds) return "";
  return fmt::format(
      "the run with one worker took only {:.2g} ms, about what starting the others costs, so "
      "there was little to gain; try {}",
      seconds * 1000, raise);
}

double speedup_bound(long workers, const load_figures& machine) {
  const long ideal = std::max(2L, std::min(workers, static_cast<long>(machine.usable_cores)));
  return 1.0 + 0.5 * static_cast<double>(ideal - 1);
}

std::string single_core_cause(const load_figures& m, unsigned parallel) {
  if (parallel <= 1 || m.usable_cores > 1) return "";
  return fmt::format(
      "this process may use only 1 core ({}), so its threads and processes took turns",
      nproc_text(m));
}

std::string busy_cause(const load_figures& m, unsigned parallel) {
  if (parallel <= 1) return "";
  const double wanted = std::min<double>(parallel, m.usable_cores);
  if (m.others_busy >= busy_cores_worth_naming && m.usable_cores - m.others_busy < wanted)
    return fmt::format(
        "other programs kept {:.1f} of the {} this process may use busy while it measured "
        "(load average {:.2f} over the last minute; {})",
        m.others_busy, plural(m.usable_cores, "core"), m.load_average, nproc_text(m));
  if (m.others_busy < 0 && m.load_average >= m.usable_cores)
    return fmt::format(
        "the load average was {:.2f} over the last minute on {} ({}; it counts this "
        "program's own threads too)",
        m.load_average, plural(m.usable_cores, "core"), nproc_text(m));
  return "";
}

std::string disturbed_cause(const load_figures& m) {
  if (m.others_busy >= busy_cores_worth_naming)
    return fmt::format(
        "other programs kept {:.1f} of the {} this process may use busy while it measured, "
        "which disturbs any timing (load average {:.2f} over the last minute; {})",
        m.others_busy, plural(m.usable_cores, "core"), m.load_average, nproc_text(m));
  if (m.others_busy < 0 && m.load_average >= m.usable_cores)
    return fmt::format(
        "the load average was {:.2f} over the last minute on {}, which disturbs any timing ({}; "
        "it counts this program's own threads too)",
        m.load_average, plural(m.usable_cores, "core"), nproc_text(m));
  return "";
}

std::vector<std::string> machine_causes(const load_figures& m, unsigned parallel) {
  std::vector<std::string> causes;
  for (auto cause : {single_core_cause(m, parallel), busy_cause(m, parallel)})
    if (!cause.empty()) causes.push_back(std::move(cause));
  return causes;
}

std::string cores_note(const load_figures& m, unsigned workers) {
  const unsigned could_use = std::min(workers, m.machine_cores);
  if (m.usable_cores >= could_use || workers <= 1) return "";
  return fmt::format(
      "this process may use {} of the machine's {} (its affinity mask; nproc says {}): at "
      "most {} of the workers ran at once",
      m.usable_cores, plural(m.machine_cores, "core"), m.usable_cores, m.usable_cores);
}

std::vector<std::string> timing_warnings(const load_figures& machine, unsigned workers) {
  std::vector<std::string> warnings;
  if (!single_core_cause(machine, workers).empty())
    warnings.push_back(fmt::format(
        "Only 1 core was there for the workers ({}): they took turns, so no number of them can "
        "be faster than one.",
        nproc_text(machine)));
  if (const auto busy = busy_cause(machine, workers); !busy.empty())
    warnings.push_back(fmt::format(
        "The speedups may be lower than your code can reach: {}. Time it again when the machine "
        "is quieter.",
        busy));
  if (auto note = cores_note(machine, workers); !note.empty() && machine.usable_cores > 1) {
    note[0] = static_cast<char>(std::toupper(note[0]));
    warnings.push_back(note + ".");
  }
  return warnings;
}

verdict judge(const claim& c, const load_figures& machine) {
  const double value = as_printed(c.value, c.unit), bound = as_printed(c.bound, c.unit);
  verdict v;
  switch (c.direction) {
    case expect::at_least:
      v.shown = value >= bound;
      break;
    case expect::at_most:
      v.shown = value <= bound;
      break;
    case expect::between:
      v.shown = as_printed(c.low, c.unit) <= value && value <= bound;
      break;
  }
  if (v.shown) return v;
  if (!c.known_cause.empty()) v.causes.push_back(c.known_cause);
  auto causes = machine_causes(machine, c.parallel);
  if (causes.empty() && c.timed && !disturbed_cause(machine).empty())
    causes.push_back(disturbed_cause(machine));
  for (auto& cause : causes) {
    v.causes.push_back(std::move(cause));
    v.machine_to_blame = true;
  }
  return v;
}

std::string describe(const claim& c, const verdict& v, const load_figures& machine) {
  std::string text =
      fmt::format("{}: {}: {} (the lesson expects {}).\n", v.shown ? "Seen here" : "Not seen here",
                  c.figure, figure_text(c.value, c.unit), expectation(c));
  if (v.shown) {
    if (!c.lesson.empty()) text += indented(c.lesson, "  ") + "\n";
    return text;
  }
  std::string why = "Why: ";
  if (v.causes.empty())
    why +=
        fmt::format("nothing in the machine's figures explains it ({}).", machine_summary(machine));
  for (std::size_t i = 0; i < v.causes.size(); ++i) why += (i == 0 ? "" : "; and ") + v.causes[i];
  if (!v.causes.empty())
    why += v.machine_to_blame ? ". Run it again when the machine is quieter." : ".";
  return text + indented(wrapped(why, line_width - 2), "  ") + "\n";
}

std::string verdicts(const std::vector<claim>& claims, const load_figures& machine) {
  std::string text;
  for (const auto& c : claims) text += describe(c, judge(c, machine), machine);
  return text;
}

std::string machine_summary(const load_figures& m) {
  std::string text = nproc_text(m);
  if (m.load_average >= 0)
    text += fmt::format(", load average {:.2f} over the last minute", m.load_average);
  if (m.others_busy >= 0)
    text += fmt::format(", other programs busy on {:.1f} cores while it measured", m.others_busy);
  return text;
}

}  // namespace lab::demos
