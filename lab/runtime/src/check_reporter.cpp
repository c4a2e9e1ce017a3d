// The "lab" doctest reporter: turns doctest's events into JSON lines on the
// result channel, one "start" and one "end" per check.
//
//   {"event":"start","check":"finds the primes below 50"}
//   {"event":"end","check":"...","passed":false,"todo":false,
//    "message":"expected ... got ...","seconds":0.01}
//
// If the program dies during a check, the driver has seen "start" without
// "end" and knows which check it was.
#include <doctest/doctest.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "check_channel.hpp"
#include "lab/todo.hpp"

namespace lab::check::detail {
namespace {

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

// A child forked by the student's code that returned into the harness
// instead of calling _exit() would go on running checks beside its parent.
// Tell the driver once, and stop that child here.
void stop_if_forked_child(const char* check_name) {
  if (getpid() == harness_pid()) return;
  send({{"event", "forked_child_returned"}, {"check", check_name}});
  _exit(70);
}

class lab_reporter : public doctest::IReporter {
 public:
  explicit lab_reporter(const doctest::ContextOptions&) {}

  // --list-test-cases: the driver asks for the checks' names up front, so
  // that it can name the checks a crash or a timeout kept from running.
  void report_query(const doctest::QueryData& query) override {
    nlohmann::json names = nlohmann::json::array();
    for (unsigned i = 0; i < query.num_data; ++i) names.push_back(query.data[i]->m_name);
    send({{"event", "list"}, {"checks", names}});
  }
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}

  void test_case_start(const doctest::TestCaseData& data) override {
    name_ = data.m_name;
    crashed_ = false;
    message_.clear();
    note_.clear();
    lab::detail::clear_last_todo();
    send({{"event", "start"}, {"check", name_}});
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}

  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    // After a crash doctest still ends the check, on its way out of the
    // signal handler; the "crash" event has said it all, and an "end" would
    // make the check look finished (and the crash someone else's).
    if (crashed_) return;
    stop_if_forked_child(name_.c_str());
    const bool passed = stats.testCaseSuccess && message_.empty();
    const std::string todo = lab::last_todo_message();
    send({{"event", "end"},
          {"check", name_},
          {"passed", passed},
          {"todo", !passed && !todo.empty()},
          {"message", !passed && !todo.empty() ? todo : message_},
          {"note", note_},
          {"seconds", stats.seconds}});
  }

  void test_case_exception(const doctest::TestCaseException& exception) override {
    stop_if_forked_child(name_.c_str());
    std::string text = exception.error_string.c_str();
    if (exception.is_crash) {
      // doctest's signal handler: the program is about to die. Say which
      // check it was in now.
      crashed_ = true;
      send({{"event", "crash"},
            {"check", name_},
            {"message", text},
            {"todo", lab::last_todo_message()}});
      return;
    }
    remember("threw: " + text);
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

  std::string name_;
  bool crashed_ = false;  // the check in progress crashed (a signal): no "end" for it
  std::string message_;
  std::string note_;  // the check's MESSAGE, shown next to it even when it passes
};

}  // namespace
}  // namespace lab::check::detail

REGISTER_REPORTER("lab", 1, lab::check::detail::lab_reporter);

// Referenced from main(): without a reference, the linker would leave this
// object file out of the check program (it comes from a static library), and
// the reporter would silently never be registered.
void lab::check::detail::link_reporter() {}
