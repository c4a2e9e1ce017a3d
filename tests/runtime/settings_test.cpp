// The runtime side of `lab settings`: environment variables in, GIL and
// safepoint settings out; a bad value is named and leaves the default.
#include <doctest/doctest.h>
#include <lab/gil.hpp>
#include <lab/primes.hpp>
#include <lab/settings.hpp>

#include <cstdlib>

namespace {

// Sets the three variables for one scope and puts the defaults back after.
struct environment {
  environment(const char* interval, const char* forced, const char* spacing) {
    set("LAB_GIL_INTERVAL_MS", interval);
    set("LAB_GIL_FORCED", forced);
    set("LAB_SAFEPOINT_SPACING", spacing);
  }
  ~environment() {
    for (const char* name : {"LAB_GIL_INTERVAL_MS", "LAB_GIL_FORCED", "LAB_SAFEPOINT_SPACING"})
      unsetenv(name);
    lab::gil::set_switch_interval(std::chrono::milliseconds(5));
    lab::gil::set_force_switching(true);
    lab::set_safepoint_spacing(64);
  }
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;

 private:
  static void set(const char* name, const char* value) {
    if (value == nullptr)
      unsetenv(name);
    else
      setenv(name, value, 1);
  }
};

}  // namespace

TEST_CASE("settings from the environment reach the GIL and the safepoint spacing") {
  const environment env("0.1", "off", "8");
  CHECK(lab::apply_settings_from_environment().empty());
  CHECK(lab::gil::switch_interval() == std::chrono::microseconds(100));
  CHECK_FALSE(lab::gil::force_switching());
  CHECK(lab::safepoint_spacing() == 8);
}

TEST_CASE("no settings in the environment leave the defaults alone") {
  const environment env(nullptr, nullptr, nullptr);
  CHECK(lab::apply_settings_from_environment().empty());
  CHECK(lab::gil::switch_interval() == std::chrono::milliseconds(5));
  CHECK(lab::gil::force_switching());
  CHECK(lab::safepoint_spacing() == 64);
}

TEST_CASE("a bad setting is named and the default stays") {
  const environment env("fast", "maybe", "0");
  const auto problems = lab::apply_settings_from_environment();
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].find("LAB_GIL_INTERVAL_MS=fast") != std::string::npos);
  CHECK(problems[1].find("LAB_GIL_FORCED=maybe") != std::string::npos);
  CHECK(problems[2].find("LAB_SAFEPOINT_SPACING=0") != std::string::npos);
  CHECK(lab::gil::switch_interval() == std::chrono::milliseconds(5));
  CHECK(lab::gil::force_switching());
  CHECK(lab::safepoint_spacing() == 64);
}
