#include "params.hpp"

#include <fmt/core.h>

#include <charconv>
#include <sstream>
#include <utility>

namespace lab::demos {
namespace {

// A bound as people write it: "16" for whole numbers, "0.001" for reals.
std::string written(double bound, param_kind kind) {
  return kind == param_kind::reals ? fmt::format("{:g}", bound)
                                   : fmt::format("{}", static_cast<long>(bound));
}

// "1 to 16", as the error messages say a range.
std::string range_text(const param_spec& spec) {
  return written(spec.range.min, spec.kind) + " to " + written(spec.range.max, spec.kind);
}

// One value of a numeric parameter (the whole text, or one item of a list),
// parsed as T and checked against the range. Throws bad_param naming
// `spec.name`, the value and the range.
template <typename T>
T parse_in_range(const param_spec& spec, const std::string& text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    throw bad_param(fmt::format("{}={} is not a {} from {}", spec.name, text,
                                spec.kind == param_kind::reals ? "number" : "whole number",
                                range_text(spec)));
  // Written this way round so that NaN (which from_chars reads) fails too.
  const auto as_double = static_cast<double>(value);
  if (!(as_double >= spec.range.min && as_double <= spec.range.max))
    throw bad_param(fmt::format("{}={} is out of range: {}", spec.name, text, range_text(spec)));
  return value;
}

// "1,2,4" as a list of T, each in range, at most spec.max_values of them.
template <typename T>
std::vector<T> parse_list(const param_spec& spec, const std::string& text) {
  std::vector<T> values;
  std::istringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ',')) values.push_back(parse_in_range<T>(spec, part));
  if (values.empty()) throw bad_param(fmt::format("{}= needs at least one number", spec.name));
  if (values.size() > spec.max_values)
    throw bad_param(fmt::format("{}={} has {} values: at most {}", spec.name, text, values.size(),
                                spec.max_values));
  return values;
}

bool parse_flag(const param_spec& spec, const std::string& text) {
  if (text == "1" || text == "yes" || text == "on") return true;
  if (text == "0" || text == "no" || text == "off") return false;
  throw bad_param(fmt::format("{}={} should be 0 or 1", spec.name, text));
}

template <typename T>
std::string joined(const std::vector<T>& values, const char* format) {
  std::string text;
  for (const T& v : values)
    text += (text.empty() ? "" : ",") + fmt::format(fmt::runtime(format), v);
  return text;
}

param_spec declared(std::string name, param_kind kind, std::string fallback) {
  param_spec spec;
  spec.name = std::move(name);
  spec.kind = kind;
  spec.fallback = std::move(fallback);
  return spec;
}

}  // namespace

namespace param {

param_spec number(std::string name, long fallback, bounds range) {
  param_spec spec = declared(std::move(name), param_kind::number, std::to_string(fallback));
  spec.range = range;
  return spec;
}

param_spec number_or(std::string name, std::string when_absent, bounds range) {
  param_spec spec = declared(std::move(name), param_kind::number, "");
  spec.has_default = false;
  spec.range = range;
  spec.note = std::move(when_absent);
  return spec;
}

param_spec numbers(std::string name, std::vector<long> fallback, bounds range) {
  param_spec spec = declared(std::move(name), param_kind::numbers, joined(fallback, "{}"));
  spec.range = range;
  spec.max_values = max_list_values;
  return spec;
}

param_spec reals(std::string name, std::vector<double> fallback, bounds range, std::string note) {
  param_spec spec = declared(std::move(name), param_kind::reals, joined(fallback, "{:g}"));
  spec.range = range;
  spec.max_values = max_list_values;
  spec.note = std::move(note);
  return spec;
}

param_spec flag(std::string name, bool fallback) {
  return declared(std::move(name), param_kind::flag, fallback ? "1" : "0");
}

param_spec text(std::string name, std::string fallback, std::string what) {
  param_spec spec = declared(std::move(name), param_kind::text, std::move(fallback));
  spec.note = std::move(what);
  return spec;
}

}  // namespace param

std::string kind_name(param_kind kind) {
  switch (kind) {
    case param_kind::number:
      return "number";
    case param_kind::numbers:
      return "numbers";
    case param_kind::reals:
      return "reals";
    case param_kind::flag:
      return "flag";
    case param_kind::text:
      return "text";
  }
  return "?";
}

std::string params_help(const std::vector<param_spec>& specs) {
  std::string help;
  for (const param_spec& spec : specs) {
    const std::string range =
        written(spec.range.min, spec.kind) + ".." + written(spec.range.max, spec.kind);
    std::string takes;
    switch (spec.kind) {
      case param_kind::number:
        takes = range;
        break;
      case param_kind::numbers:
      case param_kind::reals:
        takes = fmt::format("a list of up to {} in {}", spec.max_values, range);
        break;
      case param_kind::flag:
        takes = "0|1";
        break;
      case param_kind::text:
        takes = spec.note;
        break;
    }
    std::string fallback = spec.has_default ? "default " + spec.fallback : "default";
    if (spec.kind == param_kind::text && spec.fallback.empty()) fallback = "default none";
    if (spec.kind != param_kind::text && !spec.note.empty()) fallback += " " + spec.note;
    help += fmt::format("{}{}={}, {}", help.empty() ? "" : "; ", spec.name, takes, fallback);
  }
  return help;
}

params::params(const std::vector<param_spec>& specs,
               const std::map<std::string, std::string>& values) {
  // The value of one declared parameter from its text.
  const auto parse = [](const param_spec& spec, const std::string& text) -> value {
    switch (spec.kind) {
      case param_kind::number:
        return parse_in_range<long>(spec, text);
      case param_kind::numbers:
        return parse_list<long>(spec, text);
      case param_kind::reals:
        return parse_list<double>(spec, text);
      case param_kind::flag:
        return parse_flag(spec, text);
      case param_kind::text:
        return text;
    }
    return text;
  };
  for (const param_spec& spec : specs) {
    kinds_[spec.name] = spec.kind;
    if (!spec.has_default) continue;
    try {
      values_[spec.name] = parse(spec, spec.fallback);
    } catch (const bad_param& error) {
      throw std::logic_error(fmt::format("the declared default does not fit: {}", error.what()));
    }
  }
  for (const auto& [key, text] : values) {
    auto spec = specs.begin();
    while (spec != specs.end() && spec->name != key) ++spec;
    if (spec == specs.end()) {
      unknown_.push_back(key);
      continue;
    }
    values_[key] = parse(*spec, text);
    given_[key] = true;
  }
}

const params::value& params::at(const std::string& key, param_kind kind) const {
  const auto declared_kind = kinds_.find(key);
  if (declared_kind == kinds_.end())
    throw std::logic_error(fmt::format("the demo reads {}=, which it does not declare", key));
  if (declared_kind->second != kind)
    throw std::logic_error(fmt::format("the demo reads {}= as {}, but declares it {}", key,
                                       kind_name(kind), kind_name(declared_kind->second)));
  const auto found = values_.find(key);
  if (found == values_.end())
    throw std::logic_error(fmt::format("{}= has no default: check given() first", key));
  return found->second;
}

long params::number(const std::string& key) const {
  return std::get<long>(at(key, param_kind::number));
}

std::vector<long> params::numbers(const std::string& key) const {
  return std::get<std::vector<long>>(at(key, param_kind::numbers));
}

std::vector<double> params::reals(const std::string& key) const {
  return std::get<std::vector<double>>(at(key, param_kind::reals));
}

bool params::flag(const std::string& key) const {
  return std::get<bool>(at(key, param_kind::flag));
}

std::string params::text(const std::string& key) const {
  return std::get<std::string>(at(key, param_kind::text));
}

bool params::given(const std::string& key) const {
  return given_.count(key) != 0;
}

}  // namespace lab::demos
