// A demo's parameters: declared in its registration, each with its kind, its
// default and its range; checked, all of them, before the demo starts.
//
//   .params = {param::number("threads", 2, {1, 16}),
//              param::numbers("window", {0, 50, 500}, {0, 10'000}),
//              param::flag("gil", false)},
//
// lab-demos turns the student's key=value words into a `params` against
// those declarations: a value that is not a number, out of its range, or a
// list too long is a usage error (bad_param: "threads=0 is out of range: 1 to
// 16") and the demo never runs. The demo then reads typed values:
// `p.number("threads")`. The help text of `lab-demos --list` comes from the
// same declarations (params_help), so it cannot drift from what is checked.
#pragma once

#include <cstddef>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace lab::demos {

enum class param_kind {
  number,   // a whole number: threads=2
  numbers,  // a list of whole numbers: workers=1,2,4
  reals,    // a list of numbers with decimals: interval_ms=5,1,0.1
  flag,     // 0 or 1 (also no/yes, off/on): gil=1
  text,     // anything; the demo checks it itself: program=bank
};

// The smallest and the largest value a numeric parameter takes (each value,
// for a list); both allowed.
struct bounds {
  double min = 0;
  double max = 0;
};

// One parameter as a demo declares it. Make them with the param:: functions.
struct param_spec {
  std::string name;
  param_kind kind = param_kind::number;
  std::string fallback;        // the default, as a student would write it
  bool has_default = true;     // false: the demo works it out when not given (note says how)
  bounds range;                // number, numbers and reals only
  std::size_t max_values = 1;  // numbers and reals: how many values a list may have
  std::string note;            // for people: what a text takes, or more about the default
};

// The most values a list parameter takes: every value is one more run.
inline constexpr std::size_t max_list_values = 8;

namespace param {
param_spec number(std::string name, long fallback, bounds range);
// A number whose default the demo works out when it is not given
// (`params::given`); `when_absent` says what that default is.
param_spec number_or(std::string name, std::string when_absent, bounds range);
param_spec numbers(std::string name, std::vector<long> fallback, bounds range);
param_spec reals(std::string name, std::vector<double> fallback, bounds range,
                 std::string note = {});
param_spec flag(std::string name, bool fallback);
param_spec text(std::string name, std::string fallback, std::string what);
}  // namespace param

// "number", "numbers", ...: the kind's name in `lab-demos --list --json`.
std::string kind_name(param_kind kind);

// One line for people: every parameter with its range and its default, e.g.
// "threads=1..16, default 2; window=a list of 0..10000, default 0,50,500".
std::string params_help(const std::vector<param_spec>& specs);

// A value a student gave that the demo cannot take. The message names the
// parameter, the value and what it should be: "threads=0 is out of range: 1 to 16".
class bad_param : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A demo's parameters, checked against its declarations: the student's
// values where given, the declared defaults elsewhere.
class params {
 public:
  // Throws bad_param for a value that does not fit its declaration, and
  // std::logic_error for a declared default that does not (the demo's bug).
  // Keys nobody declared are kept aside (unknown()), not refused.
  params(const std::vector<param_spec>& specs, const std::map<std::string, std::string>& values);

  // Each reads a declared parameter of that kind; reading one that is not
  // declared, as another kind, or without a default when not given is the
  // demo's bug (std::logic_error).
  long number(const std::string& key) const;
  std::vector<long> numbers(const std::string& key) const;
  std::vector<double> reals(const std::string& key) const;
  bool flag(const std::string& key) const;
  std::string text(const std::string& key) const;
  // True if the student set it (for defaults the demo decides).
  bool given(const std::string& key) const;
  // Keys the student gave that the demo does not have: probably typos.
  const std::vector<std::string>& unknown() const { return unknown_; }

 private:
  using value = std::variant<long, std::vector<long>, std::vector<double>, bool, std::string>;
  const value& at(const std::string& key, param_kind kind) const;

  std::map<std::string, param_kind> kinds_;
  std::map<std::string, value> values_;  // given or defaulted; absent: no default
  std::map<std::string, bool> given_;
  std::vector<std::string> unknown_;
};

}  // namespace lab::demos
