// End-to-end: each demo prints the effect it exists to show, in the shape
// the lessons describe. Races are probabilistic and timings depend on the
// machine, so these tests check the report's shape and its arithmetic, not
// how many updates were lost or how fast anything ran. A demo that states a
// lesson's claim says first whether its figures show it ("Seen here" or
// "Not seen here"); either is accepted, but the verdict must agree with the
// figures it prints, and the lesson's conclusion must come only when seen.
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <regex>

#include "lab_process.hpp"

using lab_test::run_lab;

namespace {

// Runs lab-demos itself, as lab does inside its box, but without the box:
// lab reports every demo that did not exit 0 as 1, and these tests want the
// program's own exit code (2 for a usage error). A run still going after
// `seconds` is ended by SIGALRM and counts as a crash (-1).
lab_test::lab_run run_demos_program(const std::vector<std::string>& args, unsigned seconds = 60) {
  const auto folder = lab_test::fresh_temp_dir();
  const auto out_file = folder / "out", err_file = folder / "err";
  std::vector<std::string> argv = {std::string(LAB_TEST_BINARY_DIR) + "/lab/demos/lab-demos"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> pointers;
  for (auto& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    dup2(open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    alarm(seconds);  // kept across execv: the program itself is ended
    execv(pointers[0], pointers.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  lab_test::lab_run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = lab_test::read_text(out_file);
  run.err = lab_test::read_text(err_file);
  std::filesystem::remove_all(folder);
  return run;
}

// Values a declared parameter must refuse: just below and just above its
// range, a word, and for lists one value too many. None for text, which the
// demo checks itself.
std::vector<std::string> values_to_refuse(const nlohmann::json& spec) {
  const std::string kind = spec["kind"];
  const double min = spec["min"], max = spec["max"];
  if (kind == "flag") return {"2", "maybe"};
  if (kind == "text") return {};
  std::vector<std::string> values;
  if (kind == "reals") {
    values = {fmt::format("{}", min > 0 ? min / 2 : min - 1),
              fmt::format("{}", max > 0 ? max * 2 : max + 1)};
  } else {
    values = {fmt::format("{}", static_cast<long>(min) - 1),
              fmt::format("{}", static_cast<long>(max) + 1)};
  }
  values.push_back("x");
  if (kind == "numbers" || kind == "reals") {
    const std::string fits =
        kind == "reals" ? fmt::format("{}", min) : fmt::format("{}", static_cast<long>(min));
    std::string list = fits;
    for (std::size_t i = 0; i < spec["max_values"].get<std::size_t>(); ++i) list += "," + fits;
    values.push_back(list);
  }
  return values;
}

// One verdict a demo printed:
//   "Seen here: FIGURE: VALUE (the lesson expects at least BOUND).\n"
// and the lines under it (indented), up to the next unindented line.
// (or "at most BOUND", or "between LOW and BOUND").
struct printed_verdict {
  bool seen = false;
  std::string figure;
  double value = 0;
  std::string expects;  // "at least", "at most" or "between"
  double low = 0;       // for "between"
  double bound = 0;
  std::string below;  // the indented lines under it: the lesson, or "Why: ..."
  bool at_least() const { return expects == "at least"; }
  bool meets_bound() const {
    if (expects == "at least") return value >= bound;
    if (expects == "at most") return value <= bound;
    return low <= value && value <= bound;
  }
};

std::vector<printed_verdict> verdicts_in(const std::string& out) {
  const std::string number = "(-?[0-9.]+)(?:x|%| ms)?";
  const std::regex line("(Seen here|Not seen here): (.+): " + number +
                        " \\(the lesson expects (at least|at most|between) (?:" + number +
                        " and )?" + number + "\\)\\.\\n((?:  .*\\n)*)");
  std::vector<printed_verdict> found;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator();
       ++it) {
    const auto& m = *it;
    found.push_back({.seen = m[1] == "Seen here",
                     .figure = m[2],
                     .value = std::stod(m[3]),
                     .expects = m[4],
                     .low = m[5].matched ? std::stod(m[5]) : 0,
                     .bound = std::stod(m[6]),
                     .below = m[7]});
  }
  return found;
}

// The verdicts in `out`, each checked against its own figures: seen exactly
// when the value meets the bound (both as printed), and a "Why:" under it
// exactly when not seen.
std::vector<printed_verdict> checked_verdicts(const std::string& out) {
  const auto found = verdicts_in(out);
  for (const auto& v : found) {
    INFO("verdict on \"", v.figure, "\" in:\n", out);
    CHECK(v.seen == v.meets_bound());
    CHECK(v.seen == (v.below.rfind("  Why: ", 0) != 0));
  }
  return found;
}

// The verdict on `figure`, which must be there exactly once.
printed_verdict verdict_on(const std::vector<printed_verdict>& found, const std::string& figure) {
  const auto count = std::count_if(found.begin(), found.end(),
                                   [&](const printed_verdict& v) { return v.figure == figure; });
  INFO("verdict on \"", figure, "\"");
  REQUIRE(count == 1);
  return *std::find_if(found.begin(), found.end(),
                       [&](const printed_verdict& v) { return v.figure == figure; });
}

// The lesson's conclusion `phrase` is said if and only if `v` was seen.
void check_conclusion(const std::string& out, const printed_verdict& v, const std::string& phrase) {
  INFO("\"", phrase, "\" after a verdict of ", std::string(v.seen ? "seen" : "not seen"),
       " in:\n", out);
  CHECK((out.find(phrase) != std::string::npos) == v.seen);
}

}  // namespace

TEST_CASE("every demo refuses a value outside each declared range with exit 2 before it starts") {
  const auto listing = run_demos_program({"--list", "--json"});
  REQUIRE(listing.exit_code == 0);
  const auto demos = lab_test::output_json(listing);
  REQUIRE(demos.size() >= 15);
  int refused = 0;
  for (const auto& demo : demos) {
    const std::string name = demo["name"];
    CHECK_FALSE(demo["params_help"].get<std::string>().empty());
    for (const auto& spec : demo["params"]) {
      for (const auto& value : values_to_refuse(spec)) {
        const std::string word = spec["name"].get<std::string>() + "=" + value;
        const auto run = run_demos_program({name, word});
        INFO("lab-demos ", name, " ", word, "\nstdout: ", run.out, "\nstderr: ", run.err);
        CHECK(run.exit_code == 2);
        CHECK(run.out.empty());  // the demo never started
        CHECK(run.err.rfind(fmt::format("demo {}: {}", name, spec["name"].get<std::string>()), 0) ==
              0);
        CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);  // one line
        ++refused;
      }
    }
  }
  CHECK(refused > 100);
}

TEST_CASE("lab-demos lists each demo's parameters with their ranges and defaults") {
  const auto run = run_demos_program({"--list"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("threads=1..16, default 2;") != std::string::npos);
  CHECK(run.out.find("interval_ms=a list of up to 8 in 0.001..20, default 5,1,0.1") !=
        std::string::npos);
}

TEST_CASE("lab demo refuses an out of range parameter with one line and never runs the demo") {
  const auto run = run_lab({"demo", "race.counter", "threads=100000"});
  CHECK(run.exit_code == 2);  // a usage error: the student's to fix (not 3: nothing crashed)
  CHECK(run.err.find("demo race.counter: threads=100000 is out of range: 1 to 16\n") !=
        std::string::npos);
  CHECK(run.out.find("threads x") == std::string::npos);
}

TEST_CASE("race.counter reports expected and actual totals and the updates lost") {
  const auto run =
      run_lab({"demo", "race.counter", "threads=2", "iterations=20000", "window=0,20"});
  CHECK(run.exit_code == 0);
  const std::regex line("expected (\\d+), got (\\d+): (\\d+) updates lost");
  int rows = 0;
  for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), line);
       it != std::sregex_iterator(); ++it) {
    const auto& numbers = *it;
    CHECK(std::stol(numbers[1]) == 40000);
    CHECK(std::stol(numbers[1]) - std::stol(numbers[2]) == std::stol(numbers[3]));
    ++rows;
  }
  CHECK(rows == 3);  // the bare ++n, then one row per window
  CHECK(run.out.find("bare ++n compiled at -O2") != std::string::npos);
  CHECK(run.out.find("window 20 spins") != std::string::npos);
  // The verdict is on the widest window's row.
  std::smatch widest;
  REQUIRE(
      std::regex_search(run.out, widest, std::regex("window 20 spins: .*: (\\d+) updates lost")));
  const auto verdict =
      verdict_on(checked_verdicts(run.out), "updates lost with the widest window (20 spins)");
  CHECK(verdict.value == std::stod(widest[1]));
  check_conclusion(run.out, verdict, "the likelier the other");
  if (!verdict.seen) CHECK(verdict.below.find("try window=500") != std::string::npos);
}

TEST_CASE("race.counter under the GIL analogue says so and says it did not help only if it lost") {
  const auto run = run_lab({"demo", "race.counter", "iterations=1000", "gil=1"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("under the GIL analogue") != std::string::npos);
  const auto verdict =
      verdict_on(checked_verdicts(run.out), "updates lost with the widest window (500 spins)");
  check_conclusion(run.out, verdict, "The GIL analogue did not help");
}

TEST_CASE("race.bank counts the trials where both withdrawals succeeded") {
  const auto run = run_lab({"demo", "race.bank", "trials=20"});
  CHECK(run.exit_code == 0);
  std::smatch both;
  REQUIRE(
      std::regex_search(run.out, both, std::regex("both withdrawals succeeded in (\\d+) trials")));
  const auto verdict =
      verdict_on(checked_verdicts(run.out), "trials where both withdrawals succeeded");
  CHECK(verdict.value == std::stod(both[1]));
  check_conclusion(run.out, verdict, "the bank paid $50 from $25");
}

TEST_CASE("race.bank has no verdict when the balance covers both withdrawals") {
  const auto run = run_lab({"demo", "race.bank", "balance=100", "trials=5"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("No race to see: the balance covers both") != std::string::npos);
  CHECK(verdicts_in(run.out).empty());
  CHECK(run.out.find("paid") == std::string::npos);
}

TEST_CASE("lock.deadlock sees the cycle of waits and then runs both fixes to the end") {
  const auto run =
      run_lab({"demo", "lock.deadlock", "rounds=20", "pause_us=200"}, {}, std::chrono::seconds(60));
  CHECK(run.exit_code == 0);
  CHECK(std::regex_search(run.out, std::regex("Deadlock, seen after [0-9.]+ ms")));
  CHECK(run.out.find("  thread 1 waits for lock B, held by thread 2\n"
                     "  thread 2 waits for lock A, held by thread 1\n") != std::string::npos);
  CHECK(std::regex_search(
      run.out, std::regex("lock ordering \\(A before B, always\\): +40 of 40 transfers done, "
                          "no cycle ever seen")));
  CHECK(std::regex_search(
      run.out,
      std::regex("std::scoped_lock\\(from, to\\): +40 of 40 transfers done, no cycle ever seen")));
}

TEST_CASE("lock.counter prints the cost per increment for mutex and atomic") {
  const auto run =
      run_lab({"demo", "lock.counter", "threads=1,2", "increments=20000", "repeats=1"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("mutex ns/incr") != std::string::npos);
  std::map<int, std::pair<double, double>> costs;  // by threads: mutex and atomic ns
  const std::regex row("\\n +([12]) +([0-9.]+) +([0-9.]+) +[0-9.]+x");
  for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), row);
       it != std::sregex_iterator(); ++it)
    costs[std::stoi((*it)[1])] = {std::stod((*it)[2]), std::stod((*it)[3])};
  REQUIRE(costs.size() == 2);
  const auto found = checked_verdicts(run.out);
  for (int threads : {1, 2}) {
    const auto verdict =
        verdict_on(found, fmt::format("a mutex increment against an atomic one with {} thread{}",
                                      threads, threads == 1 ? "" : "s"));
    const auto [mutex_ns, atomic_ns] = costs[threads];
    if (atomic_ns >= 1)  // the columns are rounded to 0.1 ns
      CHECK(verdict.value == doctest::Approx(mutex_ns / atomic_ns).epsilon(0.1));
  }
  const auto shared = verdict_on(found, "an atomic increment with 2 threads against 1");
  if (costs[1].second >= 1)
    CHECK(shared.value == doctest::Approx(costs[2].second / costs[1].second).epsilon(0.1));
  check_conclusion(run.out, shared, "both pay for moving the counter's cache line");
}

TEST_CASE("fib.forgot_join shows the broken dispatcher and the fixed one with every result") {
  const auto run = run_lab({"demo", "fib.forgot_join", "n=20", "inputs=3"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("broken: 3 x fib(20)") != std::string::npos);
  CHECK(run.out.find("results ready: 3 of 3 (fib(20) = 6765)") != std::string::npos);
  std::smatch ready;
  REQUIRE(std::regex_search(run.out, ready, std::regex("ready when it reported: (\\d) of 3")));
  const auto verdict = verdict_on(checked_verdicts(run.out),
                                  "results ready when the broken dispatcher read the clock");
  CHECK(verdict.value == std::stod(ready[1]));
  CHECK(verdict.bound == 2);
  check_conclusion(run.out, verdict, "Without join() it read the clock");
}

TEST_CASE("gil.handoff reports the median wait per switch interval and its ratio to it") {
  const auto run = run_lab({"demo", "gil.handoff", "interval_ms=1,2", "rounds=5"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("5 times at") != std::string::npos);
  const std::regex row("\\n +([0-9.]+) ms +([0-9.]+) ms +([0-9.]+)x");
  std::vector<std::string> intervals;
  for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), row);
       it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    intervals.push_back(m[1]);
    const double interval = std::stod(m[1]), wait = std::stod(m[2]);
    if (wait >= 0.01)  // the wait column is rounded to 0.001 ms
      CHECK(std::stod(m[3]) == doctest::Approx(wait / interval).epsilon(0.1));
    const auto verdict = verdict_on(checked_verdicts(run.out),
                                    fmt::format("median wait at {} ms in intervals", m[1].str()));
    CHECK(verdict.value == doctest::Approx(std::stod(m[3])).epsilon(0.01));
  }
  CHECK(intervals == std::vector<std::string>{"1", "2"});
  const auto found = checked_verdicts(run.out);
  const bool all_seen =
      std::all_of(found.begin(), found.end(), [](const auto& v) { return v.seen; });
  CHECK((run.out.find("So the wait is about one interval") != std::string::npos) == all_seen);
}

TEST_CASE("a demo parameter that is not a number is refused with its range") {
  const auto run = run_lab({"demo", "race.counter", "threads=two"});
  CHECK(run.exit_code == 2);
  CHECK(run.err.find("threads=two is not a whole number from 1 to 16") != std::string::npos);
}

TEST_CASE("gil.convoy prints a row per switch interval whose ratio matches its p99 columns") {
  const auto run = run_lab({"demo", "gil.convoy", "interval_ms=2,0.5", "pings=20"});
  CHECK(run.exit_code == 0);
  const std::regex row(
      "\\n +([0-9.]+) ms +([0-9.]+) ms +([0-9.]+) ms +([0-9.]+) ms +([0-9.]+) ms +([0-9.]+)x");
  std::vector<std::string> intervals;
  for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), row);
       it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    intervals.push_back(m[1]);
    const double alone_p50 = std::stod(m[2]), alone_p99 = std::stod(m[3]);
    const double beside_p50 = std::stod(m[4]), beside_p99 = std::stod(m[5]);
    CHECK(alone_p50 <= alone_p99);
    CHECK(beside_p50 <= beside_p99);
    if (alone_p99 >= 0.01)  // the columns are rounded to 0.001 ms
      CHECK(std::stod(m[6]) == doctest::Approx(beside_p99 / alone_p99).epsilon(0.15));
    const auto verdict = verdict_on(checked_verdicts(run.out),
                                    fmt::format("beside p50 at {} ms in intervals", m[1].str()));
    CHECK(verdict.value == doctest::Approx(beside_p50 / std::stod(m[1])).epsilon(0.01));
  }
  CHECK(intervals == std::vector<std::string>{"2", "0.5"});
  const auto found = checked_verdicts(run.out);
  const bool all_seen =
      std::all_of(found.begin(), found.end(), [](const auto& v) { return v.seen; });
  CHECK((run.out.find("That is the convoy\neffect") != std::string::npos) == all_seen);
}

TEST_CASE("lock.false_sharing compares packed and padded counters whose totals are exact") {
  const auto run = run_lab({"demo", "lock.false_sharing", "increments=200000"});
  CHECK(run.exit_code == 0);
  std::smatch packed, padded;
  REQUIRE(std::regex_search(run.out, packed, std::regex("packed +([0-9.]+)\\n")));
  REQUIRE(std::regex_search(run.out, padded, std::regex("padded +([0-9.]+)\\n")));
  const double packed_ns = std::stod(packed[1]), padded_ns = std::stod(padded[1]);
  const auto verdict = verdict_on(checked_verdicts(run.out), "padded counters against packed ones");
  if (padded_ns >= 0.1)  // the columns are rounded to 0.01 ns
    CHECK(verdict.value == doctest::Approx(packed_ns / padded_ns).epsilon(0.1));
  check_conclusion(run.out, verdict, "No data is shared, yet the packed counters are slower");
  CHECK(run.out.find("totals exact: packed yes, padded yes") != std::string::npos);
  CHECK(run.out.find("64 bytes apart") != std::string::npos);
}

namespace {

// The rows of lock.granularity's table: ns per transfer by bank and threads.
std::map<std::pair<std::string, int>, double> granularity_rows(const std::string& out) {
  std::map<std::pair<std::string, int>, double> rows;
  const std::regex row(
      "(one lock \\(coarse\\)|a lock per account) +(\\d+) +([0-9.]+) +[0-9.]+ +[0-9.]+\\n");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), row); it != std::sregex_iterator();
       ++it)
    rows[{(*it)[1].str(), std::stoi((*it)[2])}] = std::stod((*it)[3]);
  return rows;
}

}  // namespace

TEST_CASE("lock.granularity times both banks with 1 and 2 threads and shows the money conserved") {
  const auto run =
      run_lab({"demo", "lock.granularity", "accounts=10", "transfers=20000", "work=100"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("(seed 2024)") != std::string::npos);
  CHECK(granularity_rows(run.out).size() == 4);
  CHECK(
      run.out.find("money conserved: one lock yes, a lock per account yes (at the start: 10000)") !=
      std::string::npos);
  // 10 accounts are between the lesson's two cases: no claim to judge.
  CHECK(verdicts_in(run.out).empty());
  CHECK(run.out.find("No verdict: two transfers at once need a common account 38% of the time") !=
        std::string::npos);
}

TEST_CASE("lock.granularity with 2 accounts judges two threads against one for each bank") {
  const auto run =
      run_lab({"demo", "lock.granularity", "accounts=2", "transfers=20000", "work=100"});
  CHECK(run.exit_code == 0);
  const auto rows = granularity_rows(run.out);
  REQUIRE(rows.size() == 4);
  const auto found = checked_verdicts(run.out);
  CHECK(found.size() == 2);
  for (const std::string bank : {"one lock", "a lock per account"}) {
    const auto verdict = verdict_on(found, bank + ", 2 threads against 1");
    CHECK(verdict.expects == "at most");
    const std::string row = bank == "one lock" ? "one lock (coarse)" : bank;
    CHECK(verdict.value == doctest::Approx(rows.at({row, 1}) / rows.at({row, 2})).epsilon(0.05));
  }
  check_conclusion(run.out, verdict_on(found, "a lock per account, 2 threads against 1"),
                   "none can overlap");
}

TEST_CASE("lock.granularity with 100 accounts judges a lock per account against one lock") {
  const auto run =
      run_lab({"demo", "lock.granularity", "accounts=100", "transfers=20000", "work=100"});
  CHECK(run.exit_code == 0);
  const auto rows = granularity_rows(run.out);
  REQUIRE(rows.size() == 4);
  const auto verdict =
      verdict_on(checked_verdicts(run.out), "a lock per account against one lock, 2 threads");
  CHECK(verdict.value ==
        doctest::Approx(rows.at({"one lock (coarse)", 2}) / rows.at({"a lock per account", 2}))
            .epsilon(0.05));
  check_conclusion(run.out, verdict, "go side by side");
  if (!verdict.seen) CHECK(verdict.below.find("try work=1000") != std::string::npos);
}

TEST_CASE("fib.compare runs every way and checks every result") {
  const auto run = run_lab({"demo", "fib.compare", "n=18", "inputs=3"});
  CHECK(run.exit_code == 0);
  const std::regex row(" +[0-9.]+ s +[0-9.]+x\\n");
  CHECK(std::distance(std::sregex_iterator(run.out.begin(), run.out.end(), row),
                      std::sregex_iterator()) == 5);
  CHECK(std::regex_search(run.out, std::regex("a process each +[0-9.]+ s +[0-9.]+x")));
  CHECK(std::regex_search(run.out, std::regex("a thread each \\(GIL\\) +[0-9.]+ s +[0-9.]+x")));
  CHECK(run.out.find("all 3 results correct (fib(18) = 2584): yes") != std::string::npos);
  // Each verdict's figure is the speedup printed on its way's row.
  const auto found = checked_verdicts(run.out);
  CHECK(found.size() == 3);
  const auto speedup_of = [&](const std::string& way) {
    std::smatch m;
    REQUIRE(std::regex_search(run.out, m, std::regex(way + " +[0-9.]+ s +([0-9.]+)x")));
    return std::stod(m[1]);
  };
  const auto gil = verdict_on(found, "a thread each under the GIL against one thread");
  CHECK(gil.value == speedup_of("a thread each \\(GIL\\)"));
  CHECK(gil.expects == "at most");
  check_conclusion(run.out, gil, "Threads that hold the GIL take turns");
  const auto processes = verdict_on(found, "a process each against one thread");
  CHECK(processes.value == speedup_of("a process each"));
  check_conclusion(run.out, processes, "Processes each have their own GIL");
  const auto native = verdict_on(found, "a native thread each against one thread");
  CHECK(native.value == speedup_of("\\n +a thread each"));
  check_conclusion(run.out, native, "Without the GIL, threads scale too");
}

TEST_CASE("fib.compare on one usable core blames the single core for any speedup it missed") {
  const lab_test::on_cpu_zero one_core;
  const auto run = run_lab({"demo", "fib.compare", "n=18", "inputs=3"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("this process may use 1 cores") != std::string::npos);
  for (const auto& v : checked_verdicts(run.out))
    if (!v.seen && v.at_least())
      CHECK(v.below.find("may use only 1 core (nproc 1") != std::string::npos);
}

TEST_CASE("gil.countdown prints holding and releasing the GIL side by side per thread count") {
  const auto run = run_lab({"demo", "gil.countdown", "threads=1,2", "n=200000"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("holding the GIL") != std::string::npos);
  CHECK(run.out.find("releasing the GIL") != std::string::npos);
  // The first row is the baseline of both columns.
  CHECK(
      std::regex_search(run.out, std::regex("\\n +1 +[0-9.]+ s +1\\.00x +[0-9.]+ s +1\\.00x\\n")));
  std::smatch row;
  REQUIRE(std::regex_search(run.out, row,
                            std::regex("\\n +2 +[0-9.]+ s +([0-9.]+)x +[0-9.]+ s +([0-9.]+)x\\n")));
  const auto found = checked_verdicts(run.out);
  CHECK(found.size() == 2);
  const auto gil = verdict_on(found, "2 threads holding the GIL against 1");
  CHECK(gil.value == std::stod(row[1]));
  check_conclusion(run.out, gil, "only one thread counts at a time");
  const auto native = verdict_on(found, "2 threads releasing the GIL against 1");
  CHECK(native.value == std::stod(row[2]));
  check_conclusion(run.out, native, "Without it the threads count at once");
}

TEST_CASE("gil.countdown with a first row other than 1 thread gives no verdict and says why") {
  const auto run = run_lab({"demo", "gil.countdown", "threads=2,4", "n=200000"});
  CHECK(run.exit_code == 0);
  CHECK(verdicts_in(run.out).empty());
  CHECK(run.out.find("No verdict: the speedups are against the first row") != std::string::npos);
}

TEST_CASE("gil.contrast puts threads under the GIL beside threads without it") {
  const auto run = run_lab({"demo", "gil.contrast", "workers=1,2", "end=2000", "repeats=1"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("under the GIL") != std::string::npos);
  CHECK(run.out.find("GIL released") != std::string::npos);
  std::smatch row;
  REQUIRE(std::regex_search(run.out, row,
                            std::regex("\\n +2 +[0-9.]+ s +([0-9.]+)x +[0-9.]+ s +([0-9.]+)x")));
  const auto found = checked_verdicts(run.out);
  CHECK(found.size() == 2);
  CHECK(verdict_on(found, "2 threads under the GIL against 1").value == std::stod(row[1]));
  CHECK(verdict_on(found, "2 threads without the GIL against 1").value == std::stod(row[2]));
}

TEST_CASE("primes stage 3 judges the speedup of its processes from its own table") {
  const auto run = run_lab({"demo", "primes", "stage=3", "workers=1,2", "end=20000", "repeats=1"});
  CHECK(run.exit_code == 0);
  std::smatch row;
  REQUIRE(std::regex_search(run.out, row, std::regex("\\n +2 +[0-9.]+ s +([0-9.]+)x\\n")));
  const auto verdict = verdict_on(checked_verdicts(run.out), "2 processes against 1");
  CHECK(verdict.value == std::stod(row[1]));
  CHECK(verdict.at_least());
  check_conclusion(run.out, verdict, "Processes run side by side");
}
