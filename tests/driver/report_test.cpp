#include "report.hpp"

#include <doctest/doctest.h>

#include <sstream>

namespace {

lab::exercise_result sample_result() {
  lab::exercise_result r;
  r.exercise = "primes";
  r.build.ok = true;
  r.cores = 2;
  lab::stage_result stage;
  stage.number = 1;
  stage.checks.push_back(
      {"finds <primes> & \"more\"", true, false, false, "", 0.5, "median wait 2.1 ms"});
  stage.checks.push_back({"fails", false, false, false, "expected 2 < 3\nsecond line", 0.25, ""});
  r.stages.push_back(stage);
  lab::timing_result t;
  t.stage = 1;
  t.workers = 5;
  t.median = 0.2;
  t.speedup = 1.0;
  r.timings.push_back(t);
  return r;
}

}  // namespace

TEST_CASE("xml escaping covers markup characters and drops control characters") {
  CHECK(lab::xml_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;");
  CHECK(lab::xml_escape(std::string("bell\x07") + "x") == "bellx");
}

TEST_CASE("the JSON report has the exercise and the verdict and flat checks and timings") {
  const auto document = lab::exercise_json(sample_result());
  CHECK(document["exercise"] == "primes");
  CHECK(document["passed"] == false);
  REQUIRE(document["checks"].size() == 2);
  CHECK(document["checks"][1]["name"] == "fails");
  CHECK(document["checks"][1]["passed"] == false);
  CHECK(document["checks"][1]["stage"] == 1);
  CHECK(document["checks"][0]["note"] == "median wait 2.1 ms");
  CHECK(document["timings"][0]["median_s"] == 0.2);
  CHECK(document["timings"][0]["workers"] == 5);
  CHECK(document["timings"][0]["speedup"] == 1.0);
}

TEST_CASE("the timing footer says under the table what kept the speedups down") {
  auto r = sample_result();
  std::ostringstream quiet;
  lab::print_timing_footer(quiet, r, lab::style{});
  CHECK(quiet.str() == "  speedup = time with 1 worker / time with N; ideal = min(N, 2 cores).\n");
  r.timing_warnings = {"The speedups may be lower: busy.", "Only one core."};
  std::ostringstream busy;
  lab::print_timing_footer(busy, r, lab::style{});
  CHECK(busy.str() ==
        "  speedup = time with 1 worker / time with N; ideal = min(N, 2 cores).\n"
        "  The speedups may be lower: busy.\n"
        "  Only one core.\n");
  CHECK(lab::exercise_json(r)["timing_warnings"][1] == "Only one core.");
}

TEST_CASE("the JUnit report has a test case per check and a failure with its message") {
  const std::string xml = lab::grade_junit({sample_result()});
  CHECK(xml.find("<testsuite name=\"primes\" tests=\"2\" failures=\"1\"") != std::string::npos);
  CHECK(xml.find("name=\"finds &lt;primes&gt; &amp; &quot;more&quot;\"") != std::string::npos);
  CHECK(
      xml.find("<failure message=\"expected 2 &lt; 3\">expected 2 &lt; 3\nsecond line</failure>") !=
      std::string::npos);
}

TEST_CASE("a build failure becomes one failing test case named compiles") {
  lab::exercise_result r;
  r.exercise = "primes";
  r.build.summary = "exercises/primes.cpp does not compile: 1 error.";
  const std::string xml = lab::grade_junit({r});
  CHECK(xml.find("name=\"compiles\"") != std::string::npos);
  CHECK(xml.find("failures=\"1\"") != std::string::npos);
}

TEST_CASE("the grade text ends with the passed and failed counts") {
  std::ostringstream out;
  lab::print_grade(out, {sample_result()}, lab::style{});
  CHECK(out.str().find("0 passed, 1 failed") != std::string::npos);
  CHECK(out.str().find("stage 1: fails — expected 2 < 3") != std::string::npos);
}

TEST_CASE("verbose shows each check's output as the program's and says when it was cut") {
  lab::exercise e;
  e.name = "primes";
  e.profile.output_cap_bytes = 64 << 10;
  lab::exercise_result r = sample_result();
  auto& checks = r.stages[0].checks;
  checks[0].printed = {.out = "found 2\nfound 3\n", .err = "", .complete = true};
  checks[1].printed = {.out = "", .err = "half a line", .complete = false};
  std::ostringstream plain, verbose;
  lab::print_verdict(plain, e, r, lab::style{});
  lab::print_verdict(verbose, e, r, lab::style{}, true);
  INFO(verbose.str());
  CHECK(plain.str().find("found 2") == std::string::npos);
  CHECK(verbose.str().find("finds <primes> & \"more\" (median wait 2.1 ms)\n"
                           "      your program printed on stdout:\n"
                           "      │ found 2\n"
                           "      │ found 3\n") != std::string::npos);
  CHECK(verbose.str().find("      your program printed on stderr:\n      │ half a line\n"
                           "      (cut: lab keeps the first 64 KB a run prints on each stream; "
                           "the rest of this output was dropped)\n") != std::string::npos);
}

TEST_CASE("the verbose verdict shows the first and last lines of a long output") {
  lab::exercise e;
  lab::exercise_result r = sample_result();
  std::string lines;
  for (int i = 1; i <= 250; ++i) lines += "line " + std::to_string(i) + "\n";
  r.stages[0].checks[0].printed.out = lines;
  std::ostringstream verbose;
  lab::print_verdict(verbose, e, r, lab::style{}, true);
  INFO(verbose.str());
  CHECK(verbose.str().find("│ line 50\n      │ ... 150 lines not shown ...\n      │ line 201\n") !=
        std::string::npos);
  CHECK(verbose.str().find("│ line 1\n") != std::string::npos);
  CHECK(verbose.str().find("│ line 250\n") != std::string::npos);
  CHECK(verbose.str().find("│ line 51\n") == std::string::npos);
}
