// ctest runs each doctest case by name (-tc=NAME), and doctest splits a
// filter at commas: a case whose name has a comma would silently run
// nothing and "pass". This guard fails instead.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

TEST_CASE("no test case name contains a comma or a wildcard") {
  const std::regex test_case("TEST_CASE\\(\"([^\"]*)\"");
  int names = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(
           std::filesystem::path(LAB_TEST_SOURCE_DIR) / "tests")) {
    if (entry.path().extension() != ".cpp" ||
        entry.path().string().find("fixtures") != std::string::npos)
      continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    for (std::sregex_iterator it(source.begin(), source.end(), test_case), end; it != end; ++it) {
      const std::string name = (*it)[1].str();
      ++names;
      INFO(entry.path().filename().string(), ": \"", name, "\"");
      CHECK(name.find_first_of(",*?[]\\") == std::string::npos);
    }
  }
  CHECK(names > 50);
}
