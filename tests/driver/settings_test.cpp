// The driver side of `lab settings`: values are checked and put in one form,
// and only the settings a student changed become environment variables.
#include "settings.hpp"

#include <doctest/doctest.h>

TEST_CASE("setting values are normalized or refused with the allowed range") {
  const lab::setting_info* interval = lab::find_setting("interval_ms");
  const lab::setting_info* forced = lab::find_setting("forced");
  const lab::setting_info* spacing = lab::find_setting("spacing");
  REQUIRE(interval != nullptr);
  REQUIRE(forced != nullptr);
  REQUIRE(spacing != nullptr);
  CHECK(lab::find_setting("speed") == nullptr);

  CHECK(lab::normalize_setting(*interval, "0.1").first == "0.1");
  CHECK(lab::normalize_setting(*interval, "0").second.find("0.001 to 10000") != std::string::npos);
  CHECK(lab::normalize_setting(*forced, "0").first == "off");
  CHECK(lab::normalize_setting(*forced, "yes").first == "on");
  CHECK(lab::normalize_setting(*forced, "sometimes").second ==
        "forced=sometimes should be on or off");
  CHECK(lab::normalize_setting(*spacing, "16").first == "16");
  CHECK_FALSE(lab::normalize_setting(*spacing, "1.5").second.empty());
}

TEST_CASE("only valid changed settings become environment variables") {
  const nlohmann::json stored = {{"interval_ms", "1"}, {"forced", "off"}, {"spacing", "lots"}};
  const auto env = lab::settings_environment(stored);
  REQUIRE(env.size() == 2);
  CHECK(env[0] == std::pair<std::string, std::string>{"LAB_GIL_INTERVAL_MS", "1"});
  CHECK(env[1] == std::pair<std::string, std::string>{"LAB_GIL_FORCED", "off"});
  CHECK(lab::settings_environment(nlohmann::json()).empty());
  CHECK(lab::settings_note(env).find("interval_ms=1 forced=off") != std::string::npos);
}
