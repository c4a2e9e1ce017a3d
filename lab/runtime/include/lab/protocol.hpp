// The wire between lab and every program it runs in the box (a check
// program, a demo): read this header to learn how they talk.
//
// Downward, lab -> program: environment variables (protocol::env). The
// program is told what to do (which stage, which seed, time or check), and
// where to report: the write end of a pipe, the *result channel*, on the
// descriptor named by LAB_RESULT_FD.
//
// Upward, program -> lab: events, one JSON object per line on the result
// channel, never on stdout (what student code prints cannot be mistaken for
// a verdict). Every line carries the run's secret, a random word lab makes
// for each run and hands over in LAB_RUN_SECRET:
//
//   {"event":"start","secret":"5f0c...","check":"finds the primes below 50"}
//   {"event":"end","secret":"5f0c...","check":"...","passed":true,...}
//
// The program takes both variables at start-up and scrubs them from its
// environment (take_channel_from_environment) before any student code runs,
// so student code cannot see where the channel is or what the secret is; a
// line without the secret is counted as forged and never believed.
//
// Beside the channel, a check program marks its stdout and stderr where each
// check starts and ends (output_mark below), so that lab can tell which
// check printed what; what student code prints is never read for verdicts.
//
// One writer (channel_writer) and one reader (channel_reader) serve the
// check harness, the demos and the driver. No other file names an event, a
// field or a variable: they use the constants below (a test sees to it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace lab::protocol {

// --- environment variables (lab -> program) -----------------------------------
namespace env {
// The channel and its secret: taken and scrubbed by the program at start-up.
inline constexpr const char* result_fd = "LAB_RESULT_FD";
inline constexpr const char* run_secret = "LAB_RUN_SECRET";
// What a check program is to do.
inline constexpr const char* check_mode = "LAB_CHECK_MODE";    // mode_checks or mode_time
inline constexpr const char* check_stage = "LAB_CHECK_STAGE";  // 1, 2, ...
inline constexpr const char* check_seed = "LAB_CHECK_SEED";    // seeds every random input
// In time mode: one warm-up, then `repeats` timed runs of body(size, workers).
inline constexpr const char* time_workers = "LAB_TIME_WORKERS";
inline constexpr const char* time_size = "LAB_TIME_SIZE";
inline constexpr const char* time_repeats = "LAB_TIME_REPEATS";
inline constexpr const char* time_native = "LAB_TIME_NATIVE";  // "1": is_prime releases the GIL
// The student's settings of the GIL analogue (see settings below).
inline constexpr const char* gil_interval_ms = "LAB_GIL_INTERVAL_MS";
inline constexpr const char* gil_forced = "LAB_GIL_FORCED";
inline constexpr const char* safepoint_spacing = "LAB_SAFEPOINT_SPACING";
// Where course data is (the race stepper's models), for demos.
inline constexpr const char* course_dir = "LAB_COURSE_DIR";
// A folder of the run's own, removed after the run (also in TMPDIR).
inline constexpr const char* scratch_dir = "LAB_SCRATCH_DIR";
inline constexpr const char* tmpdir = "TMPDIR";
}  // namespace env

inline constexpr const char* mode_checks = "checks";
inline constexpr const char* mode_time = "time";

// --- defaults, stated once ---------------------------------------------------------
namespace defaults {
inline constexpr std::uint64_t seed = 20261122;  // fixed, so that runs repeat
inline constexpr int stage = 1;
inline constexpr long time_workers = 1;
inline constexpr long time_size = 10'000;
inline constexpr long time_repeats = 3;
// Longest event line the reader accepts; longer lines are dropped as oversized.
inline constexpr std::size_t max_event_bytes = 256 << 10;
}  // namespace defaults

// --- the student's settings of the GIL analogue: names, defaults, ranges --------
// `lab settings` (the driver) validates what the student types and the
// runtime validates what it reads from the environment, both against these.
namespace settings {
inline constexpr double interval_ms_default = 5;  // CPython's sys.getswitchinterval()
inline constexpr double interval_ms_min = 0.001;  // zero would make every waiter ask at once
inline constexpr double interval_ms_max = 10'000;
inline constexpr bool forced_default = true;
inline constexpr long spacing_default = 64;  // divisions between two safepoints
inline constexpr long spacing_min = 1;
inline constexpr long spacing_max = 1'000'000;

// Parses a value as the runtime and `lab settings` both accept it; nullopt
// when it is malformed or out of range.
std::optional<double> parse_interval_ms(std::string_view text);
std::optional<bool> parse_forced(std::string_view text);  // on/off, 1/0, yes/no
std::optional<long> parse_spacing(std::string_view text);
}  // namespace settings

// --- events (program -> lab) ---------------------------------------------------------
// (Each compares equal field by field, for tests and for lab's bookkeeping.)
// The checks of a stage, in order (answer to --list-test-cases).
struct check_list {
  std::vector<std::string> checks;
  bool operator==(const check_list&) const = default;
};
// A check began. If the program dies before its check_end, lab knows where.
struct check_start {
  std::string check;
  bool operator==(const check_start&) const = default;
};
// A check ended by itself.
struct check_end {
  std::string check;
  bool passed = false;
  bool todo = false;    // failed at a stub's lab::todo(): not started yet
  std::string message;  // why it failed; "" when it passed
  std::string note;     // a figure worth showing even when it passed, or ""
  // Failed without a verdict on the code: the machine was too busy to
  // decide (lab/progress.hpp). `message` says what was seen.
  bool undecided = false;
  double seconds = 0;
  bool operator==(const check_end&) const = default;
};
// The program is dying of a signal inside a check (sent from the signal
// handler, from bytes prepared beforehand: no allocation, no locks).
struct check_crash {
  std::string check;
  int signal = 0;
  std::string todo;  // the stub's todo() message if one was hit, else ""
  bool operator==(const check_crash&) const = default;
};
// A child that student code forked returned into the harness instead of
// calling _exit(); it is stopped there.
struct forked_child_returned {
  std::string check;
  bool operator==(const forked_child_returned&) const = default;
};
// The harness reached the end of its run (every selected check ran).
struct run_end {
  int checks_run = 0;
  int checks_failed = 0;
  bool operator==(const run_end&) const = default;
};
// Time mode: the seconds of each timed run, after one warm-up.
struct timing {
  int stage = 0;
  long workers = 0;
  long size = 0;
  bool native = false;
  std::vector<double> samples;
  bool operator==(const timing&) const = default;
};
struct timing_error {
  std::string message;
  bool operator==(const timing_error&) const = default;
};
// A figure a demo measured, for `lab bench`.
struct metric {
  std::string name;  // a short key: "p99_ratio"
  double value = 0;
  std::string unit;  // "x", "ms", ...
  bool operator==(const metric&) const = default;
};

// One demo the demos program knows (its answer to --list, one per demo).
struct demo_listed {
  std::string name;
  std::string summary;  // one line: what it shows
  std::string params;   // its parameters, e.g. "stage=1|2|3 workers=1,5"
  std::string limits;   // its box's limits as a JSON object ("" for the defaults)
  bool operator==(const demo_listed&) const = default;
};

using event = std::variant<check_list, check_start, check_end, check_crash, forked_child_returned,
                           run_end, timing, timing_error, metric, demo_listed>;

// The wire name of an event's kind ("start", "end", ...).
const char* kind_name(const event& e);

// One line of the wire, with its newline.
std::string encode(const event& e, std::string_view secret);

// The start of a check_crash line up to the signal number, and its end, so
// that a signal handler can finish the line with digits and nothing else:
// crash_prefix(...) + "11" + crash_suffix().
std::string crash_prefix(std::string_view check, std::string_view todo, std::string_view secret);
const char* crash_suffix();

// --- writing -------------------------------------------------------------------------

// Writes all of `size` bytes to `fd`, resuming after partial writes and
// EINTR. Async-signal-safe (write(2) only). False if the reader is gone
// (when SIGPIPE is ignored; by default SIGPIPE ends the program first) or
// `fd` is not open for writing.
bool write_all(int fd, const char* data, std::size_t size) noexcept;

// The program's end of the channel. Each event is one line written with
// write_all, so lines from several threads never interleave (a pipe write of
// up to PIPE_BUF bytes is atomic; a longer line is still written whole, but
// may interleave with another thread's long line).
class channel_writer {
 public:
  channel_writer() = default;  // not connected: send() does nothing
  channel_writer(int fd, std::string secret) : fd_(fd), secret_(std::move(secret)) {}

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& secret() const { return secret_; }

  // Sends one event; false if not connected or the reader is gone.
  bool send(const event& e) const;

 private:
  int fd_ = -1;
  std::string secret_;
};

// Reads LAB_RESULT_FD and LAB_RUN_SECRET and scrubs both from the
// environment: unsetenv, and the bytes of the original environment block
// overwritten, so that /proc/self/environ does not show them either. A
// second call finds nothing and returns a writer that is not connected; so
// does an fd that is not a number or not open. The fd is made close-on-exec,
// so that programs the program execs do not inherit the channel.
// Precondition: the environment strings are writable (as the kernel and
// setenv make them; not a string literal given to putenv).
channel_writer take_channel_from_environment();

// --- reading -------------------------------------------------------------------------

// Lab's end of the channel: bytes in (as they arrive, in any pieces), events
// out. A line that is not a well-formed event is counted, never believed.
class channel_reader {
 public:
  explicit channel_reader(std::string secret,
                          std::size_t max_line_bytes = defaults::max_event_bytes);

  // Takes the next bytes; complete lines become events.
  void feed(std::string_view bytes);
  // The channel closed: an unfinished last line is counted as truncated.
  void finish();

  const std::vector<event>& events() const { return events_; }
  std::vector<event> take_events() { return std::move(events_); }

  // Lines that were not believed, by reason.
  struct counts {
    int garbage = 0;    // not JSON, not an object, an unknown kind, a field missing or mistyped
    int forged = 0;     // a well-formed event without this run's secret
    int oversized = 0;  // longer than max_line_bytes
    int truncated = 0;  // the channel closed in the middle of a line
    int total() const { return garbage + forged + oversized + truncated; }
  };
  const counts& rejected() const { return rejected_; }

 private:
  void take_line(std::string_view line);

  std::string secret_;
  std::size_t max_line_bytes_;
  std::string partial_;         // the start of a line not yet ended
  bool skipping_line_ = false;  // inside an oversized line, until its newline
  std::vector<event> events_;
  counts rejected_;
};

// Decodes one line (without its newline). Fills `why` when it is rejected:
// "garbage" or "forged".
std::optional<event> decode(std::string_view line, std::string_view secret, std::string* why);

// --- marks in the program's output (program -> lab) ------------------------------------
// A check program that reports on a result channel also marks its stdout and
// its stderr where each check starts and where it ends, so that lab can tell
// what the student's code printed during which check (`lab exercise
// --verbose`). A mark is a few bytes that text does not contain, with no
// newline of its own, written right after the program's stdio buffers are
// flushed:
//
//   RS "start" US <check name> RS        RS "end" US <check name> RS
//
// (RS and US are the ASCII record and unit separators, 0x1e and 0x1f.)
// Marks carry no secret, on purpose: they only say where output belongs,
// never a verdict, and the secret must not travel on a stream that student
// code could redirect to a file it reads. A forged mark only muddles the
// display of the forger's own output.
enum class mark_kind { start, end };

// The bytes of one mark (the harness's side).
std::string output_mark(mark_kind kind, std::string_view check);

// One stream of a check program's output, split at its marks (lab's side).
struct marked_output {
  // What was printed between one check's start mark and its end mark.
  struct piece {
    std::string text;
    bool ended = false;  // its end mark came (the stream was not cut off inside it)
  };
  std::string text;                     // the whole stream, marks removed
  std::map<std::string, piece> checks;  // by check name
  std::string outside;                  // printed outside every check
};

// Splits `stream` at its marks. A mark cut off at the end of the stream (lab
// keeps only the first bytes of a flood) is dropped; bytes that only look
// like the start of a mark stay text.
marked_output split_output(std::string_view stream);

}  // namespace lab::protocol
