#include "stage_reader.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "sandbox.hpp"  // describe_signal

namespace lab {
namespace {

namespace p = protocol;

// What the events of one run say, gathered in one pass.
struct run_story {
  std::map<std::string, check_result> finished;  // by name
  std::string open_check;                        // started and not ended when the events stop
  std::optional<p::check_crash> crash;
  std::string forked_child;  // the check during which a child returned, or ""
  bool reached_end = false;  // a run_end event came
  std::string out_of_order;  // how the events broke the protocol, or ""
};

// Follows the events: each check starts, then ends, once, one at a time, and
// only checks that were asked for. A break in that order cannot come from
// the harness: it means something else spoke with the harness's voice.
run_story follow(const std::vector<std::string>& names, const run_result& run) {
  run_story story;
  const std::set<std::string> listed(names.begin(), names.end());
  std::set<std::string> started;
  const auto broken = [&](const std::string& what) {
    if (story.out_of_order.empty()) story.out_of_order = what;
  };
  for (const auto& event : run.events) {
    if (const auto* start = std::get_if<p::check_start>(&event)) {
      if (!story.open_check.empty())
        broken(fmt::format("\"{}\" started inside \"{}\"", start->check, story.open_check));
      if (!listed.contains(start->check) || !started.insert(start->check).second)
        broken(fmt::format("\"{}\" started twice or was not asked for", start->check));
      story.open_check = start->check;
    } else if (const auto* end = std::get_if<p::check_end>(&event)) {
      if (end->check != story.open_check) {
        broken(fmt::format("\"{}\" ended without starting", end->check));
        continue;
      }
      check_result check;
      check.name = end->check;
      check.passed = end->passed;
      check.todo = end->todo;
      check.message = end->message;
      check.note = end->note;
      check.seconds = end->seconds;
      check.undecided = end->undecided;
      story.finished[check.name] = check;
      story.open_check.clear();
    } else if (const auto* crash = std::get_if<p::check_crash>(&event)) {
      story.crash = *crash;
    } else if (const auto* child = std::get_if<p::forked_child_returned>(&event)) {
      // The first check it disturbed is where the mistake is; later ones
      // only show its consequences.
      if (story.forked_child.empty()) story.forked_child = child->check;
    } else if (std::holds_alternative<p::run_end>(event)) {
      story.reached_end = true;
    }
  }
  return story;
}

// Why the program stopped without finishing its checks, in words.
std::string stop_problem(const run_result& run, const run_story& story) {
  if (story.crash && !story.crash->todo.empty()) return story.crash->todo;
  if (run.outcome == run_outcome::exited && !story.reached_end)
    return fmt::format(
        "the check program ended with exit code {} in the middle of its checks: did your code "
        "call exit() or _exit()?",
        run.exit_code);
  return run.stop_reason();
}

}  // namespace

bool stage_result::passed() const {
  return !interrupted && problem.empty() && !checks.empty() &&
         std::all_of(checks.begin(), checks.end(), [](const check_result& c) { return c.passed; });
}

std::string output_tail(const check_output& printed, std::size_t lines) {
  std::vector<std::string> kept;
  for (const std::string* stream : {&printed.err, &printed.out}) {
    std::istringstream text(*stream);
    for (std::string line; std::getline(text, line);) {
      if (line.size() > 200) line = line.substr(0, 200) + "...";
      kept.push_back(line);
    }
  }
  if (kept.size() > lines) kept.erase(kept.begin(), kept.end() - static_cast<long>(lines));
  std::string tail;
  for (const auto& line : kept) tail += line + "\n";
  return tail;
}

std::string advice_for(const std::string& output) {
  // What the C++ runtime prints before it aborts, and what it usually means.
  static const std::pair<const char*, const char*> known[] = {
      {"terminate called without an active exception",
       "a std::thread was destroyed while still joinable: join() or detach() it first"},
      {"terminate called after throwing",
       "an exception escaped a thread (or main): nothing caught it"},
      {"Resource temporarily unavailable",
       "a thread or process could not be created: too many at once?"},
      {"double free or corruption", "memory was freed twice, or written past its end"},
      {"stack smashing detected", "a local array was written past its end"},
      {"pure virtual method called", "an object was used after (or while) it was destroyed"},
  };
  for (const auto& [text, advice] : known)
    if (output.find(text) != std::string::npos) return advice;
  return "";
}

bool stage_result::undecided() const {
  const auto decided_failure = [](const check_result& c) {
    return !c.passed && !c.undecided && !c.not_run;
  };
  return std::none_of(checks.begin(), checks.end(), decided_failure) &&
         std::any_of(checks.begin(), checks.end(), [](const check_result& c) { return c.undecided; });
}

bool stage_result::not_started() const {
  return std::all_of(checks.begin(), checks.end(),
                     [](const check_result& c) { return c.todo || c.not_run; }) &&
         std::any_of(checks.begin(), checks.end(), [](const check_result& c) { return c.todo; });
}

stage_attempt read_stage(const std::vector<std::string>& names, const run_result& run, int number,
                         const std::string& title) {
  stage_attempt attempt;
  attempt.resume_from = names.size();
  attempt.timed_out = run.outcome == run_outcome::timed_out;
  stage_result& stage = attempt.stage;
  stage.number = number;
  stage.title = title;
  const run_story story = follow(names, run);
  stage.printed_outside = run.outside;

  const bool finished_all = std::all_of(names.begin(), names.end(), [&](const std::string& name) {
    return story.finished.contains(name);
  });
  if (!finished_all || !story.reached_end) stage.problem = stop_problem(run, story);
  if (stage.problem.empty() && run.outcome == run_outcome::exited && run.exit_code != 0 &&
      run.exit_code != 1)
    stage.problem = fmt::format("the check program ended with exit code {}", run.exit_code);
  if (stage.problem.empty() && run.outcome != run_outcome::exited)
    stage.problem = run.stop_reason();

  const bool stopped_at_todo = story.crash && !story.crash->todo.empty();
  bool blamed = false;
  for (std::size_t index = 0; index < names.size(); ++index) {
    const std::string& name = names[index];
    if (auto found = story.finished.find(name); found != story.finished.end()) {
      stage.checks.push_back(found->second);
      stage.checks.back().printed = run.output_of(name);
      continue;
    }
    check_result check;
    check.name = name;
    const bool this_one = name == story.open_check || story.open_check.empty();
    if (!blamed && this_one) {
      check.printed = run.output_of(name);
      check.message =
          stage.problem.empty() ? "the check program stopped during this check" : stage.problem;
      check.todo = stopped_at_todo;
      check.undecided = run.outcome == run_outcome::too_busy;
      if (!stopped_at_todo) {
        // Its own lines; the whole run's when it printed none (it stopped
        // before the check began, or the harness could not mark its output).
        check.output = output_tail(
            check.printed.empty() ? check_output{.out = run.out, .err = run.err} : check.printed);
        if (const std::string advice = advice_for(check.output); !advice.empty())
          check.message += " (" + advice + ")";
      }
      blamed = true;
      // Stuck or crashed inside this very check: the checks after it can
      // still be run, in a fresh program. Not after Ctrl-C, nor when the
      // stage is simply not written yet (todo), nor when the program stopped
      // before any check began (it would stop there again every time).
      const bool stuck_or_crashed =
          run.outcome == run_outcome::timed_out || run.outcome == run_outcome::signaled;
      if (stuck_or_crashed && !stopped_at_todo && name == story.open_check)
        attempt.resume_from = index + 1;
    } else {
      check.not_run = true;
      check.undecided = run.outcome == run_outcome::too_busy;
      check.message = check.undecided ? "not run: the machine was too busy to decide"
                                      : "not run: the program stopped at an earlier check";
    }
    stage.checks.push_back(check);
  }

  if (!story.forked_child.empty()) {
    check_result check;
    check.name = "forked children end with _exit() instead of returning";
    check.message = fmt::format(
        "a child process returned into the checks during \"{}\": end children with _exit()",
        story.forked_child);
    stage.checks.push_back(check);
  }

  if (run.task_limit_hit) {
    check_result check;
    check.name = "stays within the limit of processes and threads";
    check.message = fmt::format(
        "it hit the limit of {} processes and threads, so some fork() or thread creation failed "
        "(a fork bomb, or a worker count above the limit?)",
        run.profile.max_tasks);
    stage.checks.push_back(check);
  }

  // Evidence that something other than the harness wrote verdicts: the stage
  // fails, whatever the checks said.
  const int foreign = run.rejected.garbage + run.rejected.forged + run.rejected.oversized;
  std::string tampered;
  if (foreign > 0)
    tampered = fmt::format(
        "the result channel got {} line{} that did not come from the check harness (code that "
        "writes to descriptors it did not open?); the results of this run cannot be trusted",
        foreign, foreign == 1 ? "" : "s");
  else if (!story.out_of_order.empty())
    tampered = fmt::format(
        "the check harness's reports came out of order ({}); the results of this run cannot be "
        "trusted",
        story.out_of_order);
  if (!tampered.empty()) {
    stage.problem = tampered;
    check_result check;
    check.name = "only the check harness reports results";
    check.message = tampered;
    stage.checks.push_back(check);
    attempt.resume_from = names.size();
  }
  return attempt;
}

stage_result run_stage(const std::vector<std::string>& names, int number, const std::string& title,
                       const stage_runner& run, const std::atomic<bool>* cancel) {
  // A new run selects its checks by name in one comma-separated doctest
  // filter, which only works for names without a comma or a wildcard. The
  // course's checks keep to that (a test sees to it); an instructor's own
  // (--checks) might not, and then a stopped program is not resumed.
  const bool selectable = std::none_of(names.begin(), names.end(), [](const std::string& name) {
    return name.find_first_of(",*?[]\\") != std::string::npos;
  });
  stage_result stage;
  std::size_t first = 0;  // the first check of `names` this run is for
  int timeouts = 0;
  for (;;) {
    const std::vector<std::string> remaining(names.begin() + static_cast<long>(first), names.end());
    stage_attempt attempt = read_stage(remaining, run(remaining, first == 0), number, title);
    auto& checks = attempt.stage.checks;
    const bool out_of_timeouts = attempt.timed_out && ++timeouts >= timeouts_per_stage;
    const bool resume = selectable && attempt.resume_from < remaining.size() && !out_of_timeouts &&
                        !(cancel != nullptr && cancel->load());
    if (out_of_timeouts)
      for (auto& check : checks)
        if (check.not_run)
          check.message = fmt::format(
              "not run: {} checks of this stage timed out already; fix those first", timeouts);
    if (resume)  // the next run gives the checks still to come their own verdicts
      std::erase_if(checks, [](const check_result& check) { return check.not_run; });
    if (first == 0) {
      stage = std::move(attempt.stage);
    } else {
      stage.checks.insert(stage.checks.end(), checks.begin(), checks.end());
      if (stage.problem.empty()) stage.problem = attempt.stage.problem;
      const check_output& outside = attempt.stage.printed_outside;
      stage.printed_outside.out += outside.out;
      stage.printed_outside.err += outside.err;
      stage.printed_outside.complete = stage.printed_outside.complete && outside.complete;
    }
    if (!resume) break;
    first += attempt.resume_from;
  }
  stage.interrupted = cancel != nullptr && cancel->load();
  return stage;
}

}  // namespace lab
