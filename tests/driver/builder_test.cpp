#include "builder.hpp"

#include <doctest/doctest.h>

#include <algorithm>

namespace {

const char* const three_errors =
    "exercises/primes.cpp: In function 'long work(long)':\n"
    "exercises/primes.cpp:4:3: error: expected ',' or ';' before 'for'\n"
    "    4 |   for (long i = 0; i <= n; ++i) total += i;\n"
    "exercises/primes.cpp:5:10: error: 'totl' was not declared in this scope\n"
    "exercises/primes.cpp:5:10: note: suggested alternative: 'total'\n"
    "exercises/primes.cpp:9:1: error: expected declaration\n"
    "exercises/primes.cpp:12:1: error: one more\n"
    "compilation terminated.\n";

}  // namespace

TEST_CASE("errors are counted in compiler output") {
  CHECK(lab::count_errors(three_errors) == 4);
  CHECK(lab::count_errors("warning: unused\n") == 0);
}

TEST_CASE("diagnostics are trimmed to the first errors with their notes") {
  const std::string trimmed = lab::trim_diagnostics(three_errors, 2);
  CHECK(trimmed.find("primes.cpp:4:3: error") != std::string::npos);
  CHECK(trimmed.find("note: suggested alternative") != std::string::npos);
  CHECK(trimmed.find("primes.cpp:9:1") == std::string::npos);
  CHECK(trimmed.find("compilation terminated") == std::string::npos);
}

TEST_CASE("diagnostics are trimmed to at most the line limit") {
  std::string many;
  for (int i = 0; i < 100; ++i) many += "exercises/x.cpp:1:1: note: line\n";
  const std::string trimmed = lab::trim_diagnostics(many, 3, 10);
  CHECK(std::count(trimmed.begin(), trimmed.end(), '\n') == 10);
}

TEST_CASE("a missing function at link time is explained in one line") {
  const std::string output =
      "/usr/bin/ld: check0.o: in function `x':\ncheck.cpp:30: undefined reference to "
      "`calc_primes_pool(long, int)'\ncollect2: error: ld returned 1 exit status\n";
  CHECK(lab::explain_link_errors(output, "exercises/primes.cpp") ==
        "the checks call calc_primes_pool(long, int), which exercises/primes.cpp does not define "
        "(renamed it, or changed its parameters?)");
  CHECK(lab::explain_link_errors("collect2: error", "x.cpp").empty());
}
