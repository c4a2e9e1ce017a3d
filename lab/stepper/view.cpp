#include "view.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace lab::stepper {
namespace {

std::string variables(const std::map<std::string, long>& values) {
  std::string text;
  for (const auto& [name, value] : values)
    text += fmt::format("{}{} = {}", text.empty() ? "" : ", ", name, value);
  return text;
}

}  // namespace

std::string show_program(const model& m) {
  std::string text;
  for (std::size_t i = 0; i < m.steps.size(); ++i)
    text += fmt::format("  {}  {}\n", i + 1, m.steps[i].text);
  return text;
}

std::string show_world(const model& m, const world& w) {
  std::string text = fmt::format("  shared: {}\n", variables(w.shared));
  for (int t = 0; t < static_cast<int>(w.next.size()); ++t) {
    std::string next = "done";
    if (!finished(m, w, t)) {
      next = "next: " + m.steps[w.next[static_cast<std::size_t>(t)]].text;
      if (!can_step(m, w, t)) next += "  (waits: the lock is held)";
    }
    const std::string locals = variables(w.locals[static_cast<std::size_t>(t)]);
    text += fmt::format("  {}  {:<16} {}\n", thread_letter(t), locals, next);
  }
  return text;
}

std::string show_step(const model& m, const world& before, const world& after, int thread) {
  const auto t = static_cast<std::size_t>(thread);
  const statement& s = m.steps[before.next[t]];
  std::string effect;
  switch (s.what) {
    case statement::kind::lock:
      effect = fmt::format("{} takes {}", thread_letter(thread), s.target);
      break;
    case statement::kind::unlock:
      effect = fmt::format("{} is free", s.target);
      break;
    case statement::kind::assign: {
      const auto& mine = after.locals[t];
      const auto local = mine.find(s.target);
      const long value = local != mine.end() ? local->second : after.shared.at(s.target);
      const bool skipped = s.condition && evaluate(*s.condition, before, thread,
                                                   static_cast<int>(before.next.size())) == 0;
      effect =
          skipped ? "the condition is false: skipped" : fmt::format("{} is {}", s.target, value);
      break;
    }
  }
  return fmt::format("{}: {:<30} -> {}", thread_letter(thread), s.text, effect);
}

std::string show_exploration(const model& m, int threads, const exploration& e) {
  std::string text = fmt::format("{} threads, {} steps each: {} interleavings\n", threads,
                                 m.steps.size(), e.interleavings);
  std::size_t width = 0;
  for (const auto& o : e.outcomes)
    width = std::max(width, o.text.size() + (o.stuck ? 13 : o.bad ? m.bad.size() + 4 : 0));
  for (const auto& o : e.outcomes) {
    const double share =
        100.0 * static_cast<double>(o.count) / static_cast<double>(e.interleavings);
    std::string label = o.text;
    if (o.stuck)
      label += "  <- deadlock";
    else if (o.bad)
      label += "  <- " + m.bad;
    text += fmt::format("  {:>6} ({:>5.1f}%)  {:<{}}  e.g. {}\n", o.count, share, label, width,
                        o.example);
  }
  return text;
}

}  // namespace lab::stepper
