#include "json_file.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "course.hpp"

namespace lab {

std::size_t line_of(const std::string& text, std::size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<std::size_t>(
                 std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

std::size_t line_of_word(const std::string& text, const std::string& word) {
  const auto at = text.find("\"" + word + "\"");
  return at == std::string::npos ? 0 : line_of(text, at);
}

json_file read_json_file(const std::filesystem::path& file, const std::string& shown,
                         const std::string& hint) {
  std::ifstream in(file);
  if (!in) throw course_error(fmt::format("{}: cannot read it; {}", shown, hint));
  std::stringstream buffer;
  buffer << in.rdbuf();
  json_file result;
  result.text = buffer.str();
  try {
    result.document = nlohmann::json::parse(result.text);
  } catch (const nlohmann::json::parse_error& error) {
    throw course_error(fmt::format("{}:{}: not valid JSON ({})", shown,
                                   line_of(result.text, error.byte), error.what()));
  }
  return result;
}

}  // namespace lab
