// The runtime side of `lab settings`: environment variables in, GIL and
// safepoint settings out; a bad value is named and leaves the default.
#include <doctest/doctest.h>
#include <lab/gil.hpp>
#include <lab/primes.hpp>
#include <lab/protocol.hpp>
#include <lab/settings.hpp>

#include <cstdlib>
#include <string>

namespace {

namespace env = lab::protocol::env;
namespace settings = lab::protocol::settings;

// Sets the three variables for one scope and puts the defaults back after.
struct environment {
  environment(const char* interval, const char* forced, const char* spacing) {
    set(env::gil_interval_ms, interval);
    set(env::gil_forced, forced);
    set(env::safepoint_spacing, spacing);
  }
  ~environment() {
    for (const char* name : {env::gil_interval_ms, env::gil_forced, env::safepoint_spacing})
      unsetenv(name);
    lab::gil::set_switch_interval(default_interval());
    lab::gil::set_force_switching(settings::forced_default);
    lab::set_safepoint_spacing(settings::spacing_default);
  }
  static std::chrono::microseconds default_interval() {
    return std::chrono::microseconds(static_cast<long>(settings::interval_ms_default * 1000));
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
  const environment given("0.1", "off", "8");
  CHECK(lab::apply_settings_from_environment().empty());
  CHECK(lab::gil::switch_interval() == std::chrono::microseconds(100));
  CHECK_FALSE(lab::gil::force_switching());
  CHECK(lab::safepoint_spacing() == 8);
}

TEST_CASE("no settings in the environment leave the defaults alone") {
  const environment unset(nullptr, nullptr, nullptr);
  CHECK(lab::apply_settings_from_environment().empty());
  CHECK(lab::gil::switch_interval() == environment::default_interval());
  CHECK(lab::gil::force_switching() == settings::forced_default);
  CHECK(lab::safepoint_spacing() == settings::spacing_default);
}

TEST_CASE("a bad setting is named and the default stays") {
  const environment bad("fast", "maybe", "0");
  const auto problems = lab::apply_settings_from_environment();
  REQUIRE(problems.size() == 3);
  CHECK(problems[0] == std::string(env::gil_interval_ms) +
                           "=fast is not a number of milliseconds between 0.001 and 10000");
  CHECK(problems[1] == std::string(env::gil_forced) + "=maybe should be on or off");
  CHECK(problems[2] ==
        std::string(env::safepoint_spacing) + "=0 is not a whole number between 1 and 1000000");
  CHECK(lab::gil::switch_interval() == environment::default_interval());
  CHECK(lab::gil::force_switching() == settings::forced_default);
  CHECK(lab::safepoint_spacing() == settings::spacing_default);
}
