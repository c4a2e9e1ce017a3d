#include "model.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace lab::stepper {
namespace {

// A small recursive-descent parser over one line of the step language.
class parser {
 public:
  explicit parser(std::string text) : text_(std::move(text)) {}

  statement statement_() {
    statement s;
    s.text = text_;
    if (word("lock") || word("unlock")) {
      s.what = last_word_ == "lock" ? statement::kind::lock : statement::kind::unlock;
      s.target = identifier();
    } else {
      if (word("if")) {
        s.condition = expression();
        expect(":");
      }
      s.target = identifier();
      expect("=");
      s.value = expression();
    }
    end();
    return s;
  }

  expr expression_only() {
    expr e = expression();
    end();
    return e;
  }

 private:
  // comparison := sum [(== | != | <= | >= | < | >) sum]
  expr expression() {
    expr left = sum();
    for (const char* op : {"==", "!=", "<=", ">=", "<", ">"})
      if (symbol(op)) return expr{op, 0, "", {left, sum()}};
    return left;
  }

  // sum := operand {(+ | -) operand}
  expr sum() {
    expr left = operand();
    for (;;) {
      if (symbol("+"))
        left = expr{"+", 0, "", {left, operand()}};
      else if (symbol("-"))
        left = expr{"-", 0, "", {left, operand()}};
      else
        return left;
    }
  }

  expr operand() {
    skip_spaces();
    if (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) {
      long value = 0;
      while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_])))
        value = value * 10 + (text_[at_++] - '0');
      return expr{"num", value, "", {}};
    }
    return expr{"var", 0, identifier(), {}};
  }

  std::string identifier() {
    skip_spaces();
    const std::size_t start = at_;
    while (at_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[at_])) || text_[at_] == '_'))
      ++at_;
    if (start == at_ || std::isdigit(static_cast<unsigned char>(text_[start])))
      fail("expected a variable name");
    return text_.substr(start, at_ - start);
  }

  // A keyword followed by a space.
  bool word(const std::string& w) {
    skip_spaces();
    if (text_.compare(at_, w.size() + 1, w + " ") != 0) return false;
    at_ += w.size();
    last_word_ = w;
    return true;
  }

  bool symbol(const std::string& s) {
    skip_spaces();
    if (text_.compare(at_, s.size(), s) != 0) return false;
    at_ += s.size();
    return true;
  }

  void expect(const std::string& s) {
    if (!symbol(s)) fail(fmt::format("expected '{}'", s));
  }

  void end() {
    skip_spaces();
    if (at_ != text_.size()) fail("unexpected text");
  }

  void skip_spaces() {
    while (at_ < text_.size() && text_[at_] == ' ') ++at_;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw model_error(fmt::format("{} at column {} of \"{}\"", what, at_ + 1, text_));
  }

  std::string text_;
  std::size_t at_ = 0;
  std::string last_word_;
};

// Every variable an expression reads.
void variables_of(const expr& e, std::set<std::string>& names) {
  if (e.op == "var") names.insert(e.name);
  for (const auto& operand : e.operands) variables_of(operand, names);
}

std::map<std::string, long> numbers_of(const nlohmann::json& object, const std::string& key) {
  std::map<std::string, long> values;
  if (!object.contains(key)) return values;
  if (!object[key].is_object()) throw model_error(fmt::format("\"{}\" should be an object", key));
  for (const auto& [name, value] : object[key].items()) {
    if (!value.is_number_integer())
      throw model_error(fmt::format("\"{}\".{} should be a whole number", key, name));
    values[name] = value.get<long>();
  }
  return values;
}

// Checks that every variable is declared once and every name used exists.
void check_names(const model& m) {
  std::set<std::string> known{"threads"};
  for (const auto& [name, value] : m.shared) known.insert(name);
  for (const auto& [name, value] : m.locals)
    if (!known.insert(name).second)
      throw model_error(fmt::format("\"{}\" is both shared and local", name));
  for (std::size_t i = 0; i < m.steps.size(); ++i) {
    const statement& s = m.steps[i];
    std::set<std::string> used{s.target};
    variables_of(s.value, used);
    if (s.condition) variables_of(*s.condition, used);
    for (const auto& name : used)
      if (!name.empty() && !known.count(name))
        throw model_error(fmt::format("step {}: \"{}\" is neither shared nor local", i + 1, name));
    if (s.what != statement::kind::assign && !m.shared.count(s.target))
      throw model_error(fmt::format("step {}: the mutex \"{}\" must be shared", i + 1, s.target));
  }
  std::set<std::string> used;
  variables_of(m.bad_when, used);
  for (const auto& name : used)
    if (name != "threads" && !m.shared.count(name))
      throw model_error(fmt::format("bad_when: \"{}\" is not shared", name));
}

}  // namespace

statement parse_statement(const std::string& text) {
  return parser(text).statement_();
}

expr parse_expression(const std::string& text) {
  return parser(text).expression_only();
}

model load_model(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw model_error(fmt::format("{}: cannot be read", file.string()));
  try {
    const nlohmann::json data = nlohmann::json::parse(in);
    model m;
    m.name = file.stem().string();
    m.summary = data.value("summary", "");
    m.threads = data.value("threads", 2);
    if (m.threads < 1 || m.threads > 6) throw model_error("\"threads\" should be 1 to 6");
    m.shared = numbers_of(data, "shared");
    m.locals = numbers_of(data, "locals");
    const auto steps = data.value("steps", std::vector<std::string>{});
    if (steps.empty()) throw model_error("\"steps\" should list at least one step");
    for (std::size_t i = 0; i < steps.size(); ++i) {
      try {
        m.steps.push_back(parse_statement(steps[i]));
      } catch (const model_error& error) {
        throw model_error(fmt::format("step {}: {}", i + 1, error.what()));
      }
    }
    m.outcome = data.value("outcome", "");
    m.bad_when = parse_expression(data.value("bad_when", "0"));
    m.bad = data.value("bad", "the bad outcome");
    check_names(m);
    return m;
  } catch (const nlohmann::json::exception& error) {
    throw model_error(fmt::format("{}: not a valid model: {}", file.string(), error.what()));
  } catch (const model_error& error) {
    throw model_error(fmt::format("{}: {}", file.string(), error.what()));
  }
}

std::vector<std::string> model_names(const std::filesystem::path& course_root) {
  std::vector<std::string> names;
  std::error_code ignored;
  for (const auto& entry :
       std::filesystem::directory_iterator(course_root / "lessons" / "stepper", ignored))
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::filesystem::path model_file(const std::filesystem::path& course_root,
                                 const std::string& name) {
  return course_root / "lessons" / "stepper" / (name + ".json");
}

}  // namespace lab::stepper
