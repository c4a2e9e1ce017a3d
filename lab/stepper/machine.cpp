#include "machine.hpp"

#include <fmt/core.h>

#include <cctype>

namespace lab::stepper {

world initial_world(const model& m, int threads) {
  world w;
  w.shared = m.shared;
  w.locals.assign(static_cast<std::size_t>(threads), m.locals);
  w.next.assign(static_cast<std::size_t>(threads), 0);
  return w;
}

char thread_letter(int thread) {
  return static_cast<char>('A' + thread);
}

int thread_of(char letter, int threads) {
  const int thread = std::toupper(static_cast<unsigned char>(letter)) - 'A';
  return thread >= 0 && thread < threads ? thread : -1;
}

bool finished(const model& m, const world& w, int thread) {
  return w.next[static_cast<std::size_t>(thread)] >= m.steps.size();
}

bool all_finished(const model& m, const world& w) {
  for (std::size_t t = 0; t < w.next.size(); ++t)
    if (!finished(m, w, static_cast<int>(t))) return false;
  return true;
}

bool can_step(const model& m, const world& w, int thread) {
  if (finished(m, w, thread)) return false;
  const statement& s = m.steps[w.next[static_cast<std::size_t>(thread)]];
  return s.what != statement::kind::lock || w.shared.at(s.target) == 0;
}

long evaluate(const expr& e, const world& w, int thread, int threads) {
  if (e.op == "num") return e.number;
  if (e.op == "var") {
    if (e.name == "threads") return threads;
    const auto& mine = w.locals[static_cast<std::size_t>(thread)];
    const auto local = mine.find(e.name);
    return local != mine.end() ? local->second : w.shared.at(e.name);
  }
  const long a = evaluate(e.operands[0], w, thread, threads);
  const long b = evaluate(e.operands[1], w, thread, threads);
  if (e.op == "+") return a + b;
  if (e.op == "-") return a - b;
  if (e.op == "==") return a == b;
  if (e.op == "!=") return a != b;
  if (e.op == "<") return a < b;
  if (e.op == "<=") return a <= b;
  if (e.op == ">") return a > b;
  return a >= b;  // the parser makes no other operator
}

world take_step(const model& m, const world& w, int thread) {
  world after = w;
  const auto t = static_cast<std::size_t>(thread);
  const int threads = static_cast<int>(w.next.size());
  const statement& s = m.steps[after.next[t]++];
  switch (s.what) {
    case statement::kind::lock:
      after.shared[s.target] = thread + 1;  // who holds it, 1-based: 0 means free
      break;
    case statement::kind::unlock:
      after.shared[s.target] = 0;
      break;
    case statement::kind::assign:
      if (s.condition && evaluate(*s.condition, w, thread, threads) == 0) break;
      const long value = evaluate(s.value, w, thread, threads);
      auto& mine = after.locals[t];
      if (mine.count(s.target))
        mine[s.target] = value;
      else
        after.shared[s.target] = value;
      break;
  }
  return after;
}

std::string outcome_text(const model& m, const world& w) {
  // Replaces each {name} with the shared variable's value.
  std::string text;
  for (std::size_t i = 0; i < m.outcome.size(); ++i) {
    const auto close = m.outcome.find('}', i);
    if (m.outcome[i] == '{' && close != std::string::npos) {
      const auto found = w.shared.find(m.outcome.substr(i + 1, close - i - 1));
      if (found != w.shared.end()) {
        text += std::to_string(found->second);
        i = close;
        continue;
      }
    }
    text += m.outcome[i];
  }
  return text;
}

bool is_bad(const model& m, const world& w) {
  return evaluate(m.bad_when, w, 0, static_cast<int>(w.next.size())) != 0;
}

world replay(const model& m, int threads, const std::string& schedule, std::string& error) {
  world w = initial_world(m, threads);
  for (std::size_t i = 0; i < schedule.size(); ++i) {
    const int thread = thread_of(schedule[i], threads);
    if (thread < 0) {
      error = fmt::format("step {}: '{}' names no thread (threads are A to {})", i + 1, schedule[i],
                          thread_letter(threads - 1));
      return w;
    }
    if (!can_step(m, w, thread)) {
      error = fmt::format("step {}: {} {}", i + 1, thread_letter(thread),
                          finished(m, w, thread) ? "has finished" : "waits for a lock");
      return w;
    }
    w = take_step(m, w, thread);
  }
  return w;
}

}  // namespace lab::stepper
