// The wire between lab and the programs it runs (lab/runtime/src/protocol.cpp):
// events survive the trip, the reader believes only well-formed lines with
// the run's secret, the writer delivers everything, and a program that takes
// its channel leaves no trace of it in its environment.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <lab/protocol.hpp>
#include <lab/unique_fd.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "channel_run.hpp"

namespace protocol = lab::protocol;

namespace {

const std::string secret = "5f0c9a1e-test-secret";

// One event of each kind, every field away from its default.
std::vector<protocol::event> one_of_each() {
  return {
      protocol::check_list{{"finds the primes below 50", "counts \"quoted\" words"}},
      protocol::check_start{"finds the primes below 50"},
      protocol::check_end{.check = "sums in parallel",
                          .passed = false,
                          .todo = true,
                          .message = "not done yet: sum (exercises/sum.cpp:12)",
                          .note = "waited 3.5 ms",
                          .seconds = 0.25},
      protocol::check_crash{.check = "transfers money", .signal = 11, .todo = "not done yet: lock"},
      protocol::forked_child_returned{"forks a worker"},
      protocol::run_end{.checks_run = 7, .checks_failed = 2},
      protocol::timing{
          .stage = 3, .workers = 8, .size = 100'000, .native = true, .samples = {0.5, 0.25, 0.125}},
      protocol::timing_error{"no timed body for stage 4"},
      protocol::metric{.name = "p99_ratio", .value = 12.5, .unit = "x"},
  };
}

// Everything `text` becomes when fed to a reader in pieces of `piece` bytes.
protocol::channel_reader read_in_pieces(
    const std::string& text, std::size_t piece,
    std::size_t max_line = protocol::defaults::max_event_bytes) {
  protocol::channel_reader reader(secret, max_line);
  for (std::size_t at = 0; at < text.size(); at += piece) reader.feed(text.substr(at, piece));
  reader.finish();
  return reader;
}

std::string all_encoded(const std::vector<protocol::event>& events) {
  std::string text;
  for (const auto& e : events) text += protocol::encode(e, secret);
  return text;
}

}  // namespace

TEST_CASE("every event kind survives a round trip through encode and decode") {
  const std::vector<std::string> kinds = {
      "list",    "start",  "end",          "crash", "forked_child_returned",
      "run_end", "timing", "timing_error", "metric"};
  const auto events = one_of_each();
  REQUIRE(events.size() == kinds.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string line = protocol::encode(events[i], secret);
    INFO(line);
    CHECK(protocol::kind_name(events[i]) == kinds[i]);
    CHECK(line.find("\"event\":\"" + kinds[i] + "\"") != std::string::npos);
    REQUIRE(line.back() == '\n');
    CHECK(line.find('\n') == line.size() - 1);
    std::string why;
    const auto decoded =
        protocol::decode(std::string_view(line).substr(0, line.size() - 1), secret, &why);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == events[i]);
    CHECK(why.empty());
  }
}

TEST_CASE("a message with newlines and bytes that are not UTF-8 still makes one line") {
  protocol::check_end end;
  end.check = "reads\nlines";
  end.message = "bad \xff byte\n";
  const std::string line = protocol::encode(end, secret);
  CHECK(line.find('\n') == line.size() - 1);
  const auto decoded =
      protocol::decode(std::string_view(line).substr(0, line.size() - 1), secret, nullptr);
  REQUIRE(decoded.has_value());
  const auto& back = std::get<protocol::check_end>(*decoded);
  CHECK(back.check == "reads\nlines");
  CHECK(back.message == "bad \xef\xbf\xbd byte\n");  // U+FFFD in place of the stray byte
}

TEST_CASE("events fed one byte at a time come out whole and in order") {
  const auto events = one_of_each();
  const auto reader = read_in_pieces(all_encoded(events), 1);
  CHECK(reader.events() == events);
  CHECK(reader.rejected().total() == 0);
}

TEST_CASE("events fed in odd pieces across line ends come out whole and in order") {
  const auto events = one_of_each();
  const std::string text = all_encoded(events);
  for (const std::size_t piece : {2u, 3u, 7u, 13u, 64u, 1000u}) {
    INFO("pieces of ", piece);
    const auto reader = read_in_pieces(text, piece);
    CHECK(reader.events() == events);
    CHECK(reader.rejected().total() == 0);
  }
}

TEST_CASE("garbage lines are counted and skipped while the good lines around them survive") {
  const protocol::check_start good{"a good check"};
  const std::string good_line = protocol::encode(good, secret);
  const std::vector<std::string> garbage = {
      "not json at all",
      "",
      "[1, 2, 3]",
      "\"just a string\"",
      R"({"event":"victory","secret":")" + secret + R"("})",
      R"({"event":7,"secret":")" + secret + R"("})",
      R"({"secret":")" + secret + R"(","check":"no kind"})",
      R"({"event":"start","secret":")" + secret + R"(","check":42})",
      R"({"event":"start","secret":")" + secret + R"("})",
      R"({"event":"end","secret":")" + secret +
          R"(","check":"c","passed":"yes","todo":false,"message":"","note":"","undecided":false,"seconds":0})",
      R"({"event":"crash","secret":")" + secret + R"(","check":"c","todo":"","signal":1.5})",
      R"({"event":"list","secret":")" + secret + R"(","checks":["a",2]})",
      R"({"event":"run_end","secret":")" + secret +
          R"(","checks_run":1,"checks_failed":99999999999})",
      R"({"event":"start","secret":")" + secret + R"(","check":"unfinished)",
  };
  std::string text = good_line;
  for (const auto& line : garbage) text += line + "\n" + good_line;
  const auto reader = read_in_pieces(text, 5);
  CHECK(reader.rejected().garbage == static_cast<int>(garbage.size()));
  CHECK(reader.rejected().forged == 0);
  REQUIRE(reader.events().size() == garbage.size() + 1);
  for (const auto& e : reader.events()) CHECK(e == protocol::event(good));
}

TEST_CASE("a deeply nested line is garbage and not a crash") {
  const std::size_t depth = 100'000;
  const std::string line = std::string(depth, '[') + std::string(depth, ']') + "\n" +
                           protocol::encode(protocol::run_end{1, 0}, secret);
  const auto reader = read_in_pieces(line, 4096, 1 << 20);
  CHECK(reader.rejected().garbage == 1);
  CHECK(reader.events().size() == 1);
}

TEST_CASE("lines without this run's secret are counted as forged and never believed") {
  const std::vector<std::string> forged = {
      R"({"event":"end","check":"c","passed":true,"todo":false,"message":"","note":"","undecided":false,"seconds":0})",
      R"({"event":"end","secret":"guessed","check":"c","passed":true,"todo":false,"message":"","note":"","undecided":false,"seconds":0})",
      R"({"event":"end","secret":7,"check":"c","passed":true,"todo":false,"message":"","note":"","undecided":false,"seconds":0})",
      R"({"event":"end","secret":"","check":"c","passed":true,"todo":false,"message":"","note":"","undecided":false,"seconds":0})",
  };
  std::string text;
  for (const auto& line : forged) {
    std::string why;
    CHECK_FALSE(protocol::decode(line, secret, &why).has_value());
    CHECK(why == "forged");
    text += line + "\n";
  }
  text += protocol::encode(protocol::check_start{"real"}, secret);
  const auto reader = read_in_pieces(text, 11);
  CHECK(reader.rejected().forged == static_cast<int>(forged.size()));
  CHECK(reader.rejected().garbage == 0);
  REQUIRE(reader.events().size() == 1);
  CHECK(reader.events()[0] == protocol::event(protocol::check_start{"real"}));
}

TEST_CASE("garbage is told apart from forgery by decode") {
  std::string why;
  CHECK_FALSE(protocol::decode("{", secret, &why).has_value());
  CHECK(why == "garbage");
}

TEST_CASE("an oversized line is dropped and the next line is still read") {
  const std::size_t max_line = 200;
  const std::string huge =
      protocol::encode(protocol::timing_error{std::string(10'000, 'x')}, secret);
  const std::string after = protocol::encode(protocol::check_start{"after"}, secret);
  for (const std::size_t piece : {1u, 7u, 64u, 100'000u}) {
    INFO("pieces of ", piece);
    const auto reader = read_in_pieces(huge + after + huge, piece, max_line);
    CHECK(reader.rejected().oversized == 2);
    CHECK(reader.rejected().truncated == 0);
    CHECK(reader.rejected().garbage == 0);
    REQUIRE(reader.events().size() == 1);
    CHECK(reader.events()[0] == protocol::event(protocol::check_start{"after"}));
  }
}

TEST_CASE("a line of exactly the longest length is read and one byte more is not") {
  const std::string line = protocol::encode(protocol::check_start{"exactly"}, secret);
  const std::size_t length = line.size() - 1;  // without its newline
  CHECK(read_in_pieces(line, 3, length).events().size() == 1);
  const auto shorter = read_in_pieces(line, 3, length - 1);
  CHECK(shorter.events().empty());
  CHECK(shorter.rejected().oversized == 1);
}

TEST_CASE("an unfinished last line is counted as truncated when the channel closes") {
  const std::string whole = protocol::encode(protocol::check_start{"whole"}, secret);
  const std::string cut = protocol::encode(protocol::check_start{"cut short"}, secret);
  protocol::channel_reader reader(secret);
  reader.feed(whole + cut.substr(0, cut.size() / 2));
  CHECK(reader.events().size() == 1);
  CHECK(reader.rejected().truncated == 0);  // not before the channel closes
  reader.finish();
  CHECK(reader.events().size() == 1);
  CHECK(reader.rejected().truncated == 1);
  CHECK(reader.rejected().total() == 1);
}

namespace {

std::atomic<int> interruptions{0};
void count_interruption(int) {
  interruptions.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

TEST_CASE("write_all delivers a payload larger than the pipe buffer whole through interruptions") {
  lab::pipe_ends pipe = lab::make_pipe();
  const int pipe_buffer = fcntl(pipe.write.get(), F_GETPIPE_SZ);
  REQUIRE(pipe_buffer > 0);
  std::string payload(static_cast<std::size_t>(pipe_buffer) * 4 + 12'345, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);

  // A signal handler without SA_RESTART: a signal that arrives while write()
  // waits for room makes it return early, with a partial count or EINTR,
  // which is what write_all must resume after.
  struct sigaction count {
  }, previous{};
  count.sa_handler = count_interruption;
  sigaction(SIGUSR1, &count, &previous);
  interruptions = 0;
  std::atomic<bool> done{false};
  const pthread_t writer_thread = pthread_self();
  std::thread interrupter([&] {
    while (!done.load()) {
      pthread_kill(writer_thread, SIGUSR1);
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  std::string received;
  std::thread reader([&] {
    char buffer[1000];  // small, slow reads: the writer meets a full pipe again and again
    ssize_t got = 0;
    while ((got = read(pipe.read.get(), buffer, sizeof buffer)) > 0) {
      received.append(buffer, static_cast<std::size_t>(got));
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  });
  const bool written = protocol::write_all(pipe.write.get(), payload.data(), payload.size());
  done = true;
  interrupter.join();
  pipe.write.reset();  // end of file for the reader
  reader.join();
  sigaction(SIGUSR1, &previous, nullptr);

  CHECK(interruptions.load() > 0);
  CHECK(written);
  CHECK(received.size() == payload.size());
  CHECK(received == payload);
}

TEST_CASE("write_all says false when the reader is gone") {
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &previous);
  lab::pipe_ends pipe = lab::make_pipe();
  pipe.read.reset();
  const std::string line = "lost\n";
  CHECK_FALSE(protocol::write_all(pipe.write.get(), line.data(), line.size()));
  sigaction(SIGPIPE, &previous, nullptr);
}

TEST_CASE("a writer that is not connected sends nothing") {
  const protocol::channel_writer writer;
  CHECK_FALSE(writer.connected());
  CHECK_FALSE(writer.send(protocol::check_start{"nowhere"}));
}

TEST_CASE("a channel_writer sends lines that a channel_reader with the same secret believes") {
  lab::pipe_ends pipe = lab::make_pipe();
  const protocol::channel_writer writer(pipe.write.get(), secret);
  const auto events = one_of_each();
  for (const auto& e : events) REQUIRE(writer.send(e));
  pipe.write.reset();
  protocol::channel_reader reader(secret);
  char buffer[256];
  ssize_t got = 0;
  while ((got = read(pipe.read.get(), buffer, sizeof buffer)) > 0)
    reader.feed(std::string_view(buffer, static_cast<std::size_t>(got)));
  reader.finish();
  CHECK(reader.events() == events);
  CHECK(reader.rejected().total() == 0);
}

TEST_CASE("taking the channel scrubs both variables from getenv and from /proc/self/environ") {
  const std::string control = "kept-value-61c3";
  // Needles the probe looks for in its /proc/self/environ: the names and the
  // values of the channel's variables, and a variable that must stay (so
  // that "absent" is not merely a search that finds nothing).
  const std::vector<std::string> needles = {protocol::env::result_fd, protocol::env::run_secret,
                                            secret, control};
  const auto run = lab::testing::run_with_channel(
      LAB_TAKE_CHANNEL_PROBE, needles, {lab::testing::assignment("LAB_TEST_CONTROL", control)},
      secret);
  INFO(run.output);
  CHECK(run.exit_code == 0);
  CHECK(run.output ==
        "getenv result_fd unset\n"
        "getenv run_secret unset\n"
        "environ " +
            std::string(protocol::env::result_fd) +
            " absent\n"
            "environ " +
            std::string(protocol::env::run_secret) +
            " absent\n"
            "environ " +
            secret +
            " absent\n"
            "environ " +
            control +
            " present\n"
            "second take not connected\n"
            "empty environ entries 0\n");
  // The writer it took works: its line came with the secret.
  CHECK(run.rejected.total() == 0);
  REQUIRE(run.events.size() == 1);
  CHECK(run.events[0] == protocol::event(protocol::check_start{"probe"}));
}

TEST_CASE("a result fd that is not a number or not open gives a writer that is not connected") {
  int closed_fd = -1;
  {
    const lab::pipe_ends pipe = lab::make_pipe();
    closed_fd = pipe.write.get();
  }
  const std::vector<std::string> not_channels = {"three", "3x", "", "-1",
                                                 std::to_string(closed_fd)};
  for (const std::string& fd_text : not_channels) {
    INFO("fd ", fd_text);
    setenv(protocol::env::result_fd, fd_text.c_str(), 1);
    setenv(protocol::env::run_secret, secret.c_str(), 1);
    CHECK_FALSE(protocol::take_channel_from_environment().connected());
    CHECK(std::getenv(protocol::env::result_fd) == nullptr);
    CHECK(std::getenv(protocol::env::run_secret) == nullptr);
  }
}

TEST_CASE("an open result fd gives a connected writer with the secret and close-on-exec") {
  const lab::pipe_ends pipe = lab::make_pipe(0);  // not close-on-exec, as lab hands it over
  setenv(protocol::env::result_fd, std::to_string(pipe.write.get()).c_str(), 1);
  setenv(protocol::env::run_secret, secret.c_str(), 1);
  const protocol::channel_writer writer = protocol::take_channel_from_environment();
  CHECK(writer.connected());
  CHECK(writer.fd() == pipe.write.get());
  CHECK(writer.secret() == secret);
  CHECK((fcntl(pipe.write.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK_FALSE(protocol::take_channel_from_environment().connected());
}

TEST_CASE("a crash prefix with the signal's digits and the suffix decodes to that crash") {
  for (const int signal_number : {4, 6, 11, 64}) {
    const std::string line = protocol::crash_prefix("divides by zero", "not done yet: x", secret) +
                             std::to_string(signal_number) + protocol::crash_suffix();
    INFO(line);
    CHECK(line ==
          protocol::encode(
              protocol::check_crash{"divides by zero", signal_number, "not done yet: x"}, secret));
    protocol::channel_reader reader(secret);
    reader.feed(line);
    reader.finish();
    CHECK(reader.rejected().total() == 0);
    REQUIRE(reader.events().size() == 1);
    CHECK(reader.events()[0] ==
          protocol::event(protocol::check_crash{
              .check = "divides by zero", .signal = signal_number, .todo = "not done yet: x"}));
  }
}

TEST_CASE("the settings parsers accept their bounds and reject what is outside or malformed") {
  namespace settings = protocol::settings;
  CHECK(settings::parse_interval_ms("0.001") == settings::interval_ms_min);
  CHECK(settings::parse_interval_ms("10000") == settings::interval_ms_max);
  CHECK(settings::parse_interval_ms("5") == settings::interval_ms_default);
  for (const char* bad :
       {"0.0009", "0", "-1", "10000.5", "", "5ms", " 5", "5 ", "+5", "nan", "inf", "fast"})
    CHECK_MESSAGE(!settings::parse_interval_ms(bad), "interval ", bad);

  CHECK(settings::parse_spacing("1") == settings::spacing_min);
  CHECK(settings::parse_spacing("1000000") == settings::spacing_max);
  CHECK(settings::parse_spacing("64") == settings::spacing_default);
  for (const char* bad : {"0", "1000001", "-3", "", "64.0", "1e3", "6 4", "x"})
    CHECK_MESSAGE(!settings::parse_spacing(bad), "spacing ", bad);

  for (const char* yes : {"on", "1", "yes"}) CHECK(settings::parse_forced(yes) == true);
  for (const char* no : {"off", "0", "no"}) CHECK(settings::parse_forced(no) == false);
  for (const char* bad : {"", "maybe", "ON", "2", "true "})
    CHECK_MESSAGE(!settings::parse_forced(bad), "forced ", bad);
}

TEST_CASE("output split at its marks gives each check what it printed and the rest outside") {
  using protocol::mark_kind;
  const std::string stream = "before\n" + protocol::output_mark(mark_kind::start, "first") +
                             "one\nhalf a line" + protocol::output_mark(mark_kind::end, "first") +
                             "between\n" + protocol::output_mark(mark_kind::start, "second") +
                             protocol::output_mark(mark_kind::end, "second") +
                             protocol::output_mark(mark_kind::start, "third") + "crashed here\n";
  const auto split = protocol::split_output(stream);
  CHECK(split.text == "before\none\nhalf a linebetween\ncrashed here\n");
  CHECK(split.outside == "before\nbetween\n");
  REQUIRE(split.checks.size() == 3);
  CHECK(split.checks.at("first").text == "one\nhalf a line");
  CHECK(split.checks.at("first").ended);
  CHECK(split.checks.at("second").text.empty());
  CHECK(split.checks.at("second").ended);
  CHECK(split.checks.at("third").text == "crashed here\n");
  CHECK_FALSE(split.checks.at("third").ended);
}

TEST_CASE("a mark cut off at the end is dropped and a lone separator stays text") {
  using protocol::mark_kind;
  const std::string mark = protocol::output_mark(mark_kind::end, "a check");
  for (std::size_t cut = 1; cut < mark.size(); ++cut) {
    const std::string stream =
        protocol::output_mark(mark_kind::start, "a check") + "x\n" + mark.substr(0, cut);
    const auto split = protocol::split_output(stream);
    INFO("cut after ", cut, " bytes");
    CHECK(split.text == "x\n");
    CHECK(split.checks.at("a check").text == "x\n");
    CHECK_FALSE(split.checks.at("a check").ended);
  }
  const std::string lone =
      "a\x1e record separator\nand \x1e"
      "start\x1fno end\nhere";
  const auto split = protocol::split_output(lone);
  CHECK(split.text == lone);
  CHECK(split.outside == lone);
  CHECK(split.checks.empty());
}
