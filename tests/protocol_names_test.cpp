// The wire between lab and the programs it runs is declared once, in
// lab/protocol.hpp. This guard fails when an environment variable of the
// protocol, or an event's kind or field, is spelt out as a string literal
// anywhere else in lab's code, the course's checks, its exercises or its
// solutions: such a copy would drift from the declaration unnoticed.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The values of every `inline constexpr const char* name = "VALUE";` in the
// header's `namespace env`: the protocol's environment variables, read from
// the declaration itself so that a new one is guarded too.
std::set<std::string> declared_variables(const std::string& header) {
  const auto start = header.find("namespace env {");
  const auto end = header.find("}  // namespace env");
  REQUIRE(start != std::string::npos);
  REQUIRE(end != std::string::npos);
  const std::string block = header.substr(start, end - start);
  const std::regex constant("constexpr const char\\* \\w+ = \"([^\"]+)\"");
  std::set<std::string> names;
  for (std::sregex_iterator it(block.begin(), block.end(), constant), last; it != last; ++it)
    names.insert((*it)[1].str());
  return names;
}

}  // namespace

TEST_CASE("no protocol variable or event kind or field is spelt out outside the protocol") {
  const fs::path source_dir(LAB_TEST_SOURCE_DIR);
  const fs::path header = source_dir / "lab/runtime/include/lab/protocol.hpp";
  const fs::path implementation = source_dir / "lab/runtime/src/protocol.cpp";
  std::set<std::string> forbidden = declared_variables(read_text(header));
  CHECK(forbidden.contains("LAB_RESULT_FD"));
  CHECK(forbidden.contains("LAB_RUN_SECRET"));
  CHECK(forbidden.size() >= 12);
  // The field that names an event's kind, the secret's field, and the kinds
  // no other part of lab has a word for.
  for (const char* word : {"event", "secret", "forked_child_returned", "run_end", "timing_error"})
    forbidden.insert(word);

  const std::regex literal("\"([A-Za-z_]+)\"");
  int files = 0;
  for (const char* folder : {"lab", "checks", "exercises", "solutions"}) {
    for (const auto& entry : fs::recursive_directory_iterator(source_dir / folder)) {
      const auto extension = entry.path().extension();
      if (extension != ".cpp" && extension != ".hpp") continue;
      if (entry.path() == header || entry.path() == implementation) continue;
      ++files;
      const std::string source = read_text(entry.path());
      for (std::sregex_iterator it(source.begin(), source.end(), literal), end; it != end; ++it) {
        const std::string word = (*it)[1].str();
        INFO(fs::relative(entry.path(), source_dir).string(), ": \"", word, "\"");
        CHECK_FALSE(forbidden.contains(word));
      }
    }
  }
  CHECK(files > 40);
}
