// The "lab" doctest reporter: turns doctest's events into protocol events on
// the result channel, one check_start and one check_end per check, then (from
// main) a run_end with the tally kept here.
//
// If the program dies during a check, lab has seen check_start without
// check_end and knows which check it was; the crash handler
// (check_crash.hpp) also says so itself when it can.
//
// Private to check_main.cpp (see check_channel.hpp).
#pragma once

#ifndef LAB_CHECK_MAIN_TRANSLATION_UNIT
#error private to check_main.cpp: include it there only
#endif

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "check_channel.hpp"
#include "check_crash.hpp"
#include "lab/protocol.hpp"
#include "lab/todo.hpp"

namespace lab::check::detail {
// Why the check in progress is undecided (lab::check::undecided), cleared by
// the call; "" if it is not. Defined in check_context.cpp.
std::string take_undecided();
}  // namespace lab::check::detail

namespace lab::check {
namespace {

// What main's doctest run did, for run_end. Touched only by the thread that
// runs doctest (reporters are called on it).
struct run_tally {
  bool main_run_started = false;  // main() is about to run doctest: the next reporter is its own
  bool reporter_live = false;     // that reporter exists; later ones stay silent
  bool finished = false;          // the run reached its end (not a --list-test-cases query)
  int checks_run = 0;
  int checks_failed = 0;
};
run_tally tally;

// What the active INFO()/CAPTURE() scopes say, joined with "; ".
std::string active_context() {
  std::string joined;
  const int count = doctest::IReporter::get_num_active_contexts();
  const doctest::IContextScope* const* scopes = doctest::IReporter::get_active_contexts();
  for (int i = 0; i < count; ++i) {
    std::ostringstream text;
    scopes[i]->stringify(&text);
    if (!joined.empty()) joined += "; ";
    joined += text.str();
  }
  return joined;
}

// Marks stdout and stderr where a check starts or ends (lab/protocol.hpp,
// "marks in the program's output"), so that lab can show what each check
// printed. What the student's code left in the buffers of iostreams and
// stdio goes out first, so that it lands on its own side of the mark.
// Reporter's thread only; nothing when run by hand, without a channel (a
// person reads that output, and doctest's console report marks it).
void mark_output(protocol::mark_kind kind, const std::string& check) {
  if (!channel().connected()) return;
  std::cout.flush();
  std::clog.flush();
  std::fflush(nullptr);  // every stdio output stream
  const std::string mark = protocol::output_mark(kind, check);
  protocol::write_all(STDOUT_FILENO, mark.data(), mark.size());
  protocol::write_all(STDERR_FILENO, mark.data(), mark.size());
}

class lab_reporter : public doctest::IReporter {
 public:
  // doctest makes a reporter for each Context::run(). Only the one for
  // main's run reports: student code that runs a doctest::Context of its
  // own (before main, or inside a check) gets a silent one, and cannot make
  // this reporter vouch for checks of its choosing.
  explicit lab_reporter(const doctest::ContextOptions&)
      : live_(tally.main_run_started && !tally.reporter_live) {
    if (live_) tally.reporter_live = true;
  }

  // --list-test-cases: lab asks for the checks' names up front, so that it
  // can name the checks a crash or a timeout kept from running.
  void report_query(const doctest::QueryData& query) override {
    if (!live_) return;
    protocol::check_list list;
    for (unsigned i = 0; i < query.num_data; ++i) list.checks.emplace_back(query.data[i]->m_name);
    send(list);
  }
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {
    if (live_) tally.finished = true;
  }

  void test_case_start(const doctest::TestCaseData& data) override {
    if (!live_) return;
    name_ = data.m_name;
    message_.clear();
    note_.clear();
    lab::detail::clear_last_todo();
    detail::take_undecided();  // a fresh check starts decidable
    ++tally.checks_run;
    send(protocol::check_start{name_});
    crash_context_enter(name_);  // after the start: a crash line never comes before it
    mark_output(protocol::mark_kind::start, name_);
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}

  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    if (!live_) return;
    stop_if_forked_child(name_);
    crash_context_leave();
    mark_output(protocol::mark_kind::end, name_);
    // A check that said it could not decide (lab/progress.hpp) fails
    // without blaming the code, whatever its assertions said after that.
    const std::string undecided = detail::take_undecided();
    const bool passed = stats.testCaseSuccess && message_.empty() && undecided.empty();
    const std::string todo = lab::last_todo_message();
    const bool at_todo = !passed && !todo.empty() && undecided.empty();
    if (!passed) ++tally.checks_failed;
    send(protocol::check_end{.check = name_,
                             .passed = passed,
                             .todo = at_todo,
                             .message = !undecided.empty() ? undecided : at_todo ? todo : message_,
                             .note = note_,
                             .undecided = !undecided.empty(),
                             .seconds = stats.seconds});
  }

  // An exception escaped the check. (Crashes never come here: doctest is
  // built without its signal handlers, see check_crash.hpp.)
  void test_case_exception(const doctest::TestCaseException& exception) override {
    if (!live_) return;
    stop_if_forked_child(name_);
    remember(std::string("threw: ") + exception.error_string.c_str());
  }

  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}

  void log_assert(const doctest::AssertData& data) override {
    if (!data.m_failed) return;
    const std::string context = active_context();
    // REQUIRE_MESSAGE(ok, "the waiter never got in"): the message says it
    // all, and "ok is false" would only add noise.
    if (!data.m_threw && !context.empty() && std::string(data.m_decomp.c_str()) == "false") {
      remember(context);
      return;
    }
    std::string text = context;
    if (!text.empty()) text += ": ";
    if (data.m_threw) {
      text += std::string(data.m_expr) + " threw " + data.m_exception.c_str();
    } else {
      text += std::string(data.m_expr) + " is " + data.m_decomp.c_str();
    }
    remember(text);
  }

  void log_message(const doctest::MessageData& data) override {
    if ((data.m_severity & doctest::assertType::is_warn) != 0) {
      // MESSAGE/WARN: not a failure, but a figure worth showing (a measured
      // wait, say). The last one of the check is kept.
      note_ = data.m_string.c_str();
      return;
    }
    std::string text = active_context();
    if (!text.empty()) text += ": ";
    remember(text + data.m_string.c_str());
  }

  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  // Keeps the first failure's text: later ones are usually its consequences.
  void remember(const std::string& text) {
    if (message_.empty()) message_ = text;
  }

  const bool live_;  // this is main's reporter: it sends
  std::string name_;
  std::string message_;
  std::string note_;  // the check's MESSAGE, shown next to it even when it passes
};

}  // namespace
}  // namespace lab::check

REGISTER_REPORTER("lab", 1, lab::check::lab_reporter);
