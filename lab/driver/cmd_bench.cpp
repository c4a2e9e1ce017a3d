// lab bench [NAME ...] [--runs N] [--json] [--with KEY=VALUE ...]: run the demos that measure
// something (lessons/benchmarks.json) and print each figure, its median over
// the runs, and the target it is compared with. Targets are reported, never
// enforced: the exit code says only whether every demo ran.
#include <fmt/core.h>

#include <algorithm>
#include <lab/timing.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <thread>

#include "app.hpp"
#include "benchmarks.hpp"
#include "course.hpp"
#include "demo_run.hpp"
#include "invocation.hpp"
#include "lesson.hpp"
#include "suggest.hpp"

namespace lab {
namespace {

struct bench_options {
  std::vector<std::string> names;
  int runs = 1;
  bool json = false;
  bool list = false;
  std::vector<std::string> with;  // KEY=VALUE overrides for the one benchmark named
};

// One figure over all runs of a benchmark.
struct figure {
  std::string unit;
  std::vector<double> values;  // one per run that reported it
};

// What one benchmark gave.
struct bench_result {
  const benchmark* entry = nullptr;
  std::string problem;                    // a run that did not finish; empty if none
  std::string output;                     // that run's output, to show with the problem
  std::vector<std::string> order;         // figure names in the order first reported
  std::map<std::string, figure> figures;  // by name
};

// Runs one benchmark's demo `runs` times with the default GIL settings (not
// the student's: figures should compare across machines), output captured.
bench_result run_benchmark(const benchmark& entry, const std::vector<demo_info>& demos, int runs,
                           app_context& context) {
  bench_result result;
  result.entry = &entry;
  demo_request request;
  request.demo = find_demo(demos, entry.demo);
  if (request.demo == nullptr) {
    result.problem = fmt::format("no demo named '{}' (lessons/benchmarks.json)", entry.demo);
    return result;
  }
  request.params = entry.params;
  request.course_dir = context.the_course().root;
  request.cancel = context.cancel;
  request.profile = apply_limits(request.demo->profile, entry.limits);  // checked at load
  for (int run = 0; run < runs; ++run) {
    const demo_outcome outcome = run_demo(request);
    if (!outcome.problem.empty()) {
      result.problem = outcome.problem;
      result.output = outcome.run.out + outcome.run.err;
      break;
    }
    for (const auto& m : outcome.metrics) {
      if (!result.figures.contains(m.name)) result.order.push_back(m.name);
      auto& f = result.figures[m.name];
      f.unit = m.unit;
      f.values.push_back(m.value);
    }
  }
  return result;
}

std::string params_text(const benchmark& entry) {
  std::string text;
  for (const auto& [key, value] : entry.params) text += " " + key + "=" + value;
  return text;
}

const metric_target* target_for(const benchmark& entry, const std::string& metric) {
  for (const auto& t : entry.targets)
    if (t.metric == metric) return &t;
  return nullptr;
}

// Counts of targets met and judged, over every result.
std::pair<int, int> tally(const std::vector<bench_result>& results) {
  int met = 0, judged = 0;
  for (const auto& r : results)
    for (const auto& t : r.entry->targets) {
      const auto f = r.figures.find(t.metric);
      if (f == r.figures.end()) continue;
      ++judged;
      met += target_met(t, median_of(f->second.values)) ? 1 : 0;
    }
  return {met, judged};
}

// "50.4x", "0.197 ms", "1234 ms": three significant digits, never an exponent.
std::string shown_figure(double value, const std::string& unit) {
  const std::string number = value >= 100  ? fmt::format("{:.0f}", value)
                             : value >= 10 ? fmt::format("{:.1f}", value)
                                           : fmt::format("{:.3g}", value);
  if (unit.empty() || unit == "x") return number + unit;
  return number + " " + unit;
}

void print_text(const std::vector<bench_result>& results, int runs, std::ostream& out) {
  for (const auto& r : results) {
    const benchmark& b = *r.entry;
    out << fmt::format("\n{}: {}{}\n", b.name, b.demo, params_text(b));
    if (!b.what.empty()) out << "  " << b.what << "\n";
    if (!r.problem.empty()) {
      out << fmt::format("  the demo did not finish: {}\n", r.problem);
      if (!r.output.empty()) out << r.output << (r.output.back() == '\n' ? "" : "\n");
      continue;
    }
    for (const auto& name : r.order) {
      const figure& f = r.figures.at(name);
      const double median = median_of(f.values);
      const std::string shown = shown_figure(median, f.unit);
      std::string verdict;
      if (const metric_target* t = target_for(b, name))
        verdict = fmt::format("target {:<14} {}", describe_target(*t, f.unit),
                              target_met(*t, median) ? "met" : "missed");
      out << fmt::format("  {:<28} {:>12}   {}\n", name, shown, verdict);
    }
    for (const auto& t : b.targets)
      if (!r.figures.contains(t.metric))
        out << fmt::format("  {:<28} {:>12}   (the demo did not report it)\n", t.metric, "-");
  }
  const auto [met, judged] = tally(results);
  out << fmt::format(
      "\n{} of {} targets met; {} run{} of each demo, medians shown, {} cores, default settings.\n"
      "Targets are reported, not enforced: a busy or small machine may miss them.\n",
      met, judged, runs, runs == 1 ? "" : "s", std::thread::hardware_concurrency());
}

void print_json(const std::vector<bench_result>& results, int runs, std::ostream& out) {
  nlohmann::json document;
  document["runs"] = runs;
  document["cores"] = std::thread::hardware_concurrency();
  auto& list = document["benchmarks"] = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json entry{
        {"name", r.entry->name},
        {"demo", r.entry->demo},
        {"params", params_text(*r.entry).empty() ? "" : params_text(*r.entry).substr(1)},
        {"ok", r.problem.empty()},
        {"problem", r.problem}};
    auto& figures = entry["figures"] = nlohmann::json::array();
    for (const auto& name : r.order) {
      const figure& f = r.figures.at(name);
      const double median = median_of(f.values);
      nlohmann::json item{
          {"name", name}, {"median", median}, {"unit", f.unit}, {"values", f.values}};
      if (const metric_target* t = target_for(*r.entry, name)) {
        item["target"] = describe_target(*t, f.unit);
        item["met"] = target_met(*t, median);
      }
      figures.push_back(item);
    }
    list.push_back(entry);
  }
  const auto [met, judged] = tally(results);
  document["targets_met"] = met;
  document["targets_judged"] = judged;
  out << document.dump(2) << "\n";
}

// Sets `entry`'s parameters from KEY=VALUE words, replacing those it has.
// Throws std::invalid_argument for a word that is not KEY=VALUE.
void override_params(benchmark& entry, const std::vector<std::string>& words) {
  entry.params = overlay_params(entry.params, parse_params(words));
}

int run_bench(const bench_options& options, app_context& context) {
  const auto file = context.the_course().root / "lessons" / "benchmarks.json";
  std::vector<benchmark> all = load_benchmarks(file);
  std::vector<std::string> known;
  for (const auto& b : all) known.push_back(b.name);
  if (options.list) {
    for (const auto& b : all)
      *context.out << fmt::format("{:<16} {}{}  {}\n", b.name, b.demo, params_text(b), b.what);
    return exit_code::ok;
  }
  for (const auto& name : options.names)
    if (name.find('=') != std::string::npos) {
      *context.err << fmt::format(
          "lab bench: '{}' is not a benchmark; to change a parameter write --with {}\n", name,
          name);
      return exit_code::bad_usage;
    }
  if (!options.with.empty() && options.names.size() != 1) {
    *context.err << "lab bench: --with changes one benchmark's parameters; name exactly one, "
                    "e.g. "
                 << lab_command("bench counter --with increments=100000") << "\n";
    return exit_code::bad_usage;
  }
  std::vector<benchmark*> chosen;
  for (const auto& name : options.names) {
    const auto it =
        std::find_if(all.begin(), all.end(), [&](const auto& b) { return b.name == name; });
    if (it == all.end()) {
      *context.err << fmt::format("lab bench: no benchmark named '{}'.{} ({} shows them)\n", name,
                                  did_you_mean(name, known), lab_command("bench --list"));
      return exit_code::bad_usage;
    }
    chosen.push_back(&*it);
  }
  if (options.names.empty())
    for (auto& b : all) chosen.push_back(&b);
  try {
    if (!options.with.empty()) override_params(*chosen.front(), options.with);
  } catch (const std::invalid_argument& error) {
    *context.err << fmt::format(
        "lab bench: --with {}; write KEY=VALUE, e.g. --with increments=100000\n", error.what());
    return exit_code::bad_usage;
  }

  const auto demos = available_demos();
  std::vector<bench_result> results;
  for (const benchmark* b : chosen) {
    if (!options.json) {
      *context.err << fmt::format("running {} ({}{})...\n", b->name, b->demo, params_text(*b));
      context.err->flush();
    }
    results.push_back(run_benchmark(*b, demos, options.runs, context));
    if (results.back().problem == "stopped") return exit_code::interrupted;
  }
  if (options.json)
    print_json(results, options.runs, *context.out);
  else
    print_text(results, options.runs, *context.out);
  const bool all_ran =
      std::all_of(results.begin(), results.end(), [](const auto& r) { return r.problem.empty(); });
  return all_ran ? exit_code::ok : exit_code::failed;
}

}  // namespace

void setup_bench(CLI::App& app, app_context& context) {
  auto options = std::make_shared<bench_options>();
  CLI::App* sub = app.add_subcommand(
      "bench", "Run the demos that measure something and compare their figures with the targets");
  sub->add_option("names", options->names, "Benchmarks to run (default: all; --list shows them)");
  sub->add_option("--runs", options->runs, "Runs of each demo; the median is shown")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--json", options->json, "Print the figures as one JSON document");
  sub->add_flag("--list", options->list, "List the benchmarks");
  sub->add_option("--with", options->with,
                  "Change a parameter of the one benchmark named, e.g. " +
                      lab_command("bench counter --with increments=100000") +
                      " (a quick look on a slow machine; targets assume the defaults)")
      ->allow_extra_args(false);  // one KEY=VALUE per --with, so that names may follow it
  context.runners[sub] = [options, &context] { return run_bench(*options, context); };
}

}  // namespace lab
