// The student's settings for the GIL analogue: the switch interval, forced
// switching, and the safepoint spacing. `lab settings` shows and changes
// them; they are kept in the progress file (under "settings") and handed to
// every demo and exercise run as environment variables, which the runtime
// applies at start-up (lab/runtime/include/lab/settings.hpp). `lab grade`
// ignores them: a grade is always taken with the defaults.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lab {

struct setting_info {
  std::string key;            // what the student types: interval_ms
  std::string env;            // what the runtime reads: LAB_GIL_INTERVAL_MS
  std::string default_value;  // as text: "5"
  std::string help;           // one line
};

// Every setting, in the order `lab settings` lists them.
const std::vector<setting_info>& known_settings();

// Nullptr if `key` is not a setting.
const setting_info* find_setting(const std::string& key);

// The value in canonical form ("off" for "0"), or an error naming the allowed
// values: {value, ""} or {"", "interval_ms=fast is not ..."}.
std::pair<std::string, std::string> normalize_setting(const setting_info& s,
                                                      const std::string& value);

// The environment for a run: one VAR=value per setting the student changed
// (`stored` is the "settings" object of the progress file; may be null).
std::vector<std::pair<std::string, std::string>> settings_environment(const nlohmann::json& stored);

// One line for the top of a run's output: "(settings: LAB_GIL_INTERVAL_MS=1;
// lab settings --reset for the defaults)".
std::string settings_note(const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace lab
