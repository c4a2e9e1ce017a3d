#include "explore.hpp"

#include "machine.hpp"

namespace lab::stepper {
namespace {

void record(exploration& result, const std::string& text, bool bad, bool stuck,
            const std::string& schedule) {
  ++result.interleavings;
  for (auto& o : result.outcomes)
    if (o.text == text && o.stuck == stuck) {
      ++o.count;
      return;
    }
  result.outcomes.push_back({text, bad, stuck, 1, schedule});
}

void visit(const model& m, const world& w, std::string& schedule, exploration& result) {
  if (all_finished(m, w)) {
    record(result, outcome_text(m, w), is_bad(m, w), false, schedule);
    return;
  }
  bool moved = false;
  for (int t = 0; t < static_cast<int>(w.next.size()); ++t) {
    if (!can_step(m, w, t)) continue;
    moved = true;
    schedule.push_back(thread_letter(t));
    visit(m, take_step(m, w, t), schedule, result);
    schedule.pop_back();
  }
  if (!moved) record(result, "stuck: every thread waits", true, true, schedule);
}

}  // namespace

exploration explore(const model& m, int threads) {
  exploration result;
  std::string schedule;
  visit(m, initial_world(m, threads), schedule, result);
  return result;
}

}  // namespace lab::stepper
