// Reading a course's JSON files (exercises/info.json, lessons/benchmarks.json)
// so that every mistake in them is reported as file:line and a cause.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace lab {

// 1-based line of byte `offset` in `text`.
std::size_t line_of(const std::string& text, std::size_t offset);

// 1-based line where `"<word>"` first appears in `text`; 0 if it does not.
std::size_t line_of_word(const std::string& text, const std::string& word);

// A JSON file's text and what it parses to.
struct json_file {
  std::string text;
  nlohmann::json document;
};

// Reads and parses `file`. Throws course_error "<shown>: cannot read it; <hint>"
// or "<shown>:<line>: not valid JSON (...)".
json_file read_json_file(const std::filesystem::path& file, const std::string& shown,
                         const std::string& hint);

}  // namespace lab
