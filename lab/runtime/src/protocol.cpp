// The wire between lab and the programs it runs: see lab/protocol.hpp.
//
// Each event type lists its fields once (fields_of below); encode and decode
// both walk that list, so the writer and the reader cannot disagree about a
// field's name or type.
#include "lab/protocol.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <concepts>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>
#include <utility>

extern char** environ;  // POSIX: the process's environment

namespace lab::protocol {
namespace {

using json = nlohmann::json;
// Written in a fixed order (event, secret, then the fields as listed), so a
// line reads the same every time and a crash line can end with its signal.
using ordered_json = nlohmann::ordered_json;

// --- names on the wire, private to this file -------------------------------------------
namespace field {
constexpr const char* event = "event";
constexpr const char* secret = "secret";
constexpr const char* check = "check";
constexpr const char* checks = "checks";
constexpr const char* passed = "passed";
constexpr const char* todo = "todo";
constexpr const char* message = "message";
constexpr const char* note = "note";
constexpr const char* undecided = "undecided";
constexpr const char* seconds = "seconds";
constexpr const char* signal = "signal";
constexpr const char* checks_run = "checks_run";
constexpr const char* checks_failed = "checks_failed";
constexpr const char* stage = "stage";
constexpr const char* workers = "workers";
constexpr const char* size = "size";
constexpr const char* native = "native";
constexpr const char* samples = "samples";
constexpr const char* name = "name";
constexpr const char* value = "value";
constexpr const char* unit = "unit";
constexpr const char* summary = "summary";
constexpr const char* params = "params";
constexpr const char* limits = "limits";
}  // namespace field

// The kind of each event type, as it is written in the "event" field.
template <typename T>
constexpr const char* kind_of = nullptr;
template <>
constexpr const char* kind_of<check_list> = "list";
template <>
constexpr const char* kind_of<check_start> = "start";
template <>
constexpr const char* kind_of<check_end> = "end";
template <>
constexpr const char* kind_of<check_crash> = "crash";
template <>
constexpr const char* kind_of<forked_child_returned> = "forked_child_returned";
template <>
constexpr const char* kind_of<run_end> = "run_end";
template <>
constexpr const char* kind_of<timing> = "timing";
template <>
constexpr const char* kind_of<timing_error> = "timing_error";
template <>
constexpr const char* kind_of<metric> = "metric";
template <>
constexpr const char* kind_of<demo_listed> = "demo";

// --- the fields of each event, listed once ---------------------------------------------
// fields_of(e, visit) calls visit(name, member) for each field of e, in wire
// order. E is the event type, const when encoding.
template <typename E, typename T>
concept event_of = std::same_as<std::remove_const_t<E>, T>;

template <event_of<check_list> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::checks, e.checks);
}
template <event_of<check_start> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::check, e.check);
}
template <event_of<check_end> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::check, e.check);
  visit(field::passed, e.passed);
  visit(field::todo, e.todo);
  visit(field::message, e.message);
  visit(field::note, e.note);
  visit(field::undecided, e.undecided);
  visit(field::seconds, e.seconds);
}
// The signal comes last: crash_prefix() ends just before its digits.
template <event_of<check_crash> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::check, e.check);
  visit(field::todo, e.todo);
  visit(field::signal, e.signal);
}
template <event_of<forked_child_returned> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::check, e.check);
}
template <event_of<run_end> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::checks_run, e.checks_run);
  visit(field::checks_failed, e.checks_failed);
}
template <event_of<timing> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::stage, e.stage);
  visit(field::workers, e.workers);
  visit(field::size, e.size);
  visit(field::native, e.native);
  visit(field::samples, e.samples);
}
template <event_of<timing_error> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::message, e.message);
}
template <event_of<metric> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::name, e.name);
  visit(field::value, e.value);
  visit(field::unit, e.unit);
}

template <event_of<demo_listed> E, typename F>
void fields_of(E& e, F&& visit) {
  visit(field::name, e.name);
  visit(field::summary, e.summary);
  visit(field::params, e.params);
  visit(field::limits, e.limits);
}

// --- reading one field ------------------------------------------------------------------
// Each read_value takes a JSON value into a member; false when the value has
// the wrong type (or does not fit). A double that is not finite is written as
// null by nlohmann::json, so it comes back as garbage: events carry finite figures.
bool read_value(const json& from, std::string& to) {
  if (!from.is_string()) return false;
  to = from.get<std::string>();
  return true;
}
bool read_value(const json& from, bool& to) {
  if (!from.is_boolean()) return false;
  to = from.get<bool>();
  return true;
}
bool read_value(const json& from, double& to) {
  if (!from.is_number()) return false;
  to = from.get<double>();
  return true;
}
// int and long: a whole number that fits (1.0 is not a whole number here).
template <std::integral T>
bool read_value(const json& from, T& to) {
  if (from.is_number_unsigned()) {
    const auto value = from.get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return false;
    to = static_cast<T>(value);
    return true;
  }
  if (!from.is_number_integer()) return false;
  const auto value = from.get<std::int64_t>();
  if (value < std::numeric_limits<T>::min() || value > std::numeric_limits<T>::max()) return false;
  to = static_cast<T>(value);
  return true;
}
template <typename T>
bool read_value(const json& from, std::vector<T>& to) {
  if (!from.is_array()) return false;
  to.clear();
  to.reserve(from.size());
  for (const json& item : from) {
    T value{};
    if (!read_value(item, value)) return false;
    to.push_back(std::move(value));
  }
  return true;
}

// Builds an event of type T from a JSON object; nullopt if a field is
// missing or has the wrong type. Fields the type does not know are ignored.
template <typename T>
std::optional<event> read_event(const json& object) {
  T e;
  bool ok = true;
  fields_of(e, [&](const char* name, auto& member) {
    if (!ok) return;
    const auto found = object.find(name);
    ok = found != object.end() && read_value(*found, member);
  });
  if (!ok) return std::nullopt;
  return e;
}

// If `kind` is T's kind: reads a T from `object` into `result` (nullopt if
// malformed) and says true. False for another kind.
template <typename T>
bool read_if_kind(std::string_view kind, const json& object, std::optional<event>& result) {
  if (kind != kind_of<T>) return false;
  result = read_event<T>(object);
  return true;
}

// The event whose kind is `kind`, read from `object`; nullopt for an unknown
// kind or a malformed event. Tries each alternative of `event` in turn.
template <std::size_t... I>
std::optional<event> read_kind(std::string_view kind, const json& object,
                               std::index_sequence<I...>) {
  std::optional<event> result;
  (read_if_kind<std::variant_alternative_t<I, event>>(kind, object, result) || ...);
  return result;
}

// The JSON object of one line: event, secret, then the event's own fields.
ordered_json as_json(const event& e, std::string_view secret) {
  ordered_json object;
  object[field::event] = kind_name(e);
  object[field::secret] = std::string(secret);
  std::visit(
      [&](const auto& alternative) {
        fields_of(alternative,
                  [&](const char* name, const auto& member) { object[name] = member; });
      },
      e);
  return object;
}

// The whole text as a number (from_chars: no locale, no "+", no spaces).
template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) return std::nullopt;
  return value;
}

// Takes every "name=..." string out of the environment and returns the value
// of the first (what getenv would have said). unsetenv alone only takes the
// strings' pointers out of `environ`: their text stays where it was, and the
// original environment block is what /proc/self/environ shows. So each
// string is overwritten in place: its value first (while unsetenv can still
// find it by name), then, once unset, its name. glibc never frees a string
// that unsetenv takes out (a setenv copy is kept for reuse), so writing to it
// afterwards is safe there; elsewhere the name stays and only the value goes.
// Precondition: the strings are writable (true of the block the kernel gives
// a program and of setenv's copies; not of a literal given to putenv).
std::optional<std::string> take_variable(const char* name) {
  const std::size_t name_size = std::strlen(name);
  std::vector<char*> strings;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    if (std::strncmp(*entry, name, name_size) == 0 && (*entry)[name_size] == '=')
      strings.push_back(*entry);
  if (strings.empty()) return std::nullopt;
  std::string value(strings.front() + name_size + 1);
  for (char* text : strings) {
    char* value_bytes = text + name_size + 1;
    std::memset(value_bytes, 0, std::strlen(value_bytes));
  }
  ::unsetenv(name);
#if defined(__GLIBC__)
  for (char* text : strings) std::memset(text, 0, name_size + 1);
#endif
  return value;
}

}  // namespace

// --- events ------------------------------------------------------------------------------

const char* kind_name(const event& e) {
  return std::visit(
      [](const auto& alternative) { return kind_of<std::remove_cvref_t<decltype(alternative)>>; },
      e);
}

std::string encode(const event& e, std::string_view secret) {
  // replace: a message with bytes that are not UTF-8 (student code's text)
  // is still sent, with U+FFFD in their place, rather than throwing. JSON
  // escapes every control character, so the line has no newline but its last.
  std::string line = as_json(e, secret).dump(-1, ' ', false, json::error_handler_t::replace);
  line += '\n';
  return line;
}

std::string crash_prefix(std::string_view check, std::string_view todo, std::string_view secret) {
  // The line of a crash with signal 0 ends in `0}\n` (the signal is the last
  // field); what comes before the 0 is the prefix, and `}\n` the suffix.
  std::string line = encode(check_crash{std::string(check), 0, std::string(todo)}, secret);
  const std::string ending = std::string("0") + crash_suffix();
  if (!std::string_view(line).ends_with(ending)) std::abort();  // fields_of(check_crash) changed
  line.resize(line.size() - ending.size());
  return line;
}

const char* crash_suffix() {
  return "}\n";
}

std::optional<event> decode(std::string_view line, std::string_view secret, std::string* why) {
  const auto reject = [&](const char* reason) -> std::optional<event> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  const json object = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return reject("garbage");  // also what a parse error gives (discarded)
  const auto kind = object.find(field::event);
  if (kind == object.end() || !kind->is_string()) return reject("garbage");
  std::optional<event> e = read_kind(kind->get_ref<const std::string&>(), object,
                                     std::make_index_sequence<std::variant_size_v<event>>());
  if (!e) return reject("garbage");
  // The shape is right: now whether this run's lab sent for it. A secret
  // that is not a string is simply not the secret.
  const auto given = object.find(field::secret);
  if (given == object.end() || !given->is_string() ||
      given->get_ref<const std::string&>() != secret)
    return reject("forged");
  return e;
}

// --- writing -----------------------------------------------------------------------------

bool write_all(int fd, const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;  // a signal arrived before anything was written
      return false;                  // EPIPE: the reader is gone; EBADF: no channel
    }
    if (written == 0) return false;  // not expected for size > 0; do not spin
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

bool channel_writer::send(const event& e) const {
  if (!connected()) return false;
  const std::string line = encode(e, secret_);
  return write_all(fd_, line.data(), line.size());
}

channel_writer take_channel_from_environment() {
  const std::optional<std::string> fd_text = take_variable(env::result_fd);
  std::optional<std::string> secret = take_variable(env::run_secret);
  if (!fd_text) return {};
  const std::optional<int> fd = parse_number<int>(*fd_text);
  if (!fd || *fd < 0) return {};
  const int flags = ::fcntl(*fd, F_GETFD);
  if (flags < 0) return {};  // not open
  // Close-on-exec: a program that student code execs does not inherit the channel.
  ::fcntl(*fd, F_SETFD, flags | FD_CLOEXEC);
  return channel_writer(*fd, secret ? std::move(*secret) : std::string());
}

// --- reading -----------------------------------------------------------------------------

channel_reader::channel_reader(std::string secret, std::size_t max_line_bytes)
    : secret_(std::move(secret)), max_line_bytes_(max_line_bytes) {}

void channel_reader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t newline = bytes.find('\n');
    const bool ends_here = newline != std::string_view::npos;
    const std::string_view piece = bytes.substr(0, ends_here ? newline : bytes.size());
    bytes.remove_prefix(ends_here ? newline + 1 : bytes.size());
    if (skipping_line_) {
      // The rest of an oversized line (already counted): dropped unread.
      if (ends_here) skipping_line_ = false;
      continue;
    }
    if (partial_.size() + piece.size() > max_line_bytes_) {
      ++rejected_.oversized;
      partial_.clear();
      skipping_line_ = !ends_here;
      continue;
    }
    if (!ends_here) {
      partial_.append(piece);
      continue;
    }
    if (partial_.empty()) {
      take_line(piece);  // the usual case: a whole line in one piece, not copied
    } else {
      partial_.append(piece);
      take_line(partial_);
      partial_.clear();
    }
  }
}

void channel_reader::finish() {
  // The rest of an oversized line was counted as oversized already.
  if (!partial_.empty()) ++rejected_.truncated;
  partial_.clear();
  skipping_line_ = false;
}

void channel_reader::take_line(std::string_view line) {
  std::string why;
  if (std::optional<event> e = decode(line, secret_, &why)) {
    events_.push_back(std::move(*e));
  } else if (why == "forged") {
    ++rejected_.forged;
  } else {
    ++rejected_.garbage;
  }
}

// --- marks in the output ------------------------------------------------------------------

namespace {

constexpr char mark_edge = '\x1e';     // RS: opens and closes a mark
constexpr char mark_divider = '\x1f';  // US: between the kind and the check's name

const char* mark_word(mark_kind kind) {
  return kind == mark_kind::start ? "start" : "end";
}

// A mark at the start of `text` (which begins with mark_edge): its kind,
// its check and its length in bytes. nullopt when the text does not go on
// as a mark does; `truncated` is set when it goes on as one up to its end.
struct mark_found {
  mark_kind kind;
  std::string_view check;
  std::size_t size;
};
std::optional<mark_found> read_mark(std::string_view text, bool& truncated) {
  truncated = false;
  for (const mark_kind kind : {mark_kind::start, mark_kind::end}) {
    const std::string head = std::string(1, mark_edge) + mark_word(kind) + mark_divider;
    if (text.size() < head.size()) {
      truncated = std::string_view(head).starts_with(text);
      if (truncated) return std::nullopt;
      continue;
    }
    if (!text.starts_with(head)) continue;
    const std::size_t close = text.find(mark_edge, head.size());
    if (close == std::string_view::npos) {
      truncated = text.find('\n', head.size()) == std::string_view::npos;
      return std::nullopt;
    }
    return mark_found{kind, text.substr(head.size(), close - head.size()), close + 1};
  }
  return std::nullopt;
}

}  // namespace

std::string output_mark(mark_kind kind, std::string_view check) {
  std::string mark(1, mark_edge);
  mark += mark_word(kind);
  mark += mark_divider;
  mark += check;
  mark += mark_edge;
  return mark;
}

marked_output split_output(std::string_view stream) {
  marked_output split;
  marked_output::piece* inside = nullptr;  // the check being printed, or nullptr
  const auto keep = [&](std::string_view text) {
    split.text += text;
    (inside != nullptr ? inside->text : split.outside) += text;
  };
  while (!stream.empty()) {
    const std::size_t edge = stream.find(mark_edge);
    keep(stream.substr(0, edge));
    if (edge == std::string_view::npos) break;
    stream.remove_prefix(edge);
    bool truncated = false;
    const std::optional<mark_found> mark = read_mark(stream, truncated);
    if (truncated) break;  // the stream was cut off in the middle of a mark
    if (!mark) {           // a lone RS the program printed: text like any other
      keep(stream.substr(0, 1));
      stream.remove_prefix(1);
      continue;
    }
    if (mark->kind == mark_kind::start) {
      inside = &split.checks[std::string(mark->check)];
    } else {
      split.checks[std::string(mark->check)].ended = true;
      inside = nullptr;
    }
    stream.remove_prefix(mark->size);
  }
  return split;
}

// --- the student's settings -------------------------------------------------------------

namespace settings {

std::optional<double> parse_interval_ms(std::string_view text) {
  const std::optional<double> ms = parse_number<double>(text);
  // Written as "in range" so that NaN (from_chars reads "nan") is out of it.
  if (!ms || !(*ms >= interval_ms_min && *ms <= interval_ms_max)) return std::nullopt;
  return ms;
}

std::optional<bool> parse_forced(std::string_view text) {
  if (text == "on" || text == "1" || text == "yes") return true;
  if (text == "off" || text == "0" || text == "no") return false;
  return std::nullopt;
}

std::optional<long> parse_spacing(std::string_view text) {
  const std::optional<long> divisions = parse_number<long>(text);
  if (!divisions || *divisions < spacing_min || *divisions > spacing_max) return std::nullopt;
  return divisions;
}

}  // namespace settings
}  // namespace lab::protocol
