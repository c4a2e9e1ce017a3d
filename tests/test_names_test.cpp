// ctest runs each doctest case by name (-tc=NAME), and doctest splits a
// filter at commas: a case whose name has a comma would silently run
// nothing and "pass". This guard fails instead. It covers the course's
// hidden checks too: lab resumes a stopped check program by naming the
// checks still to come in one such filter.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

TEST_CASE("no test case name contains a comma or a wildcard") {
  const std::regex test_case("TEST_CASE\\(\"([^\"]*)\"");
  int names = 0;
  const std::filesystem::path source_dir(LAB_TEST_SOURCE_DIR);
  std::vector<std::filesystem::path> files;
  for (const char* folder : {"tests", "checks"})
    for (const auto& entry : std::filesystem::recursive_directory_iterator(source_dir / folder))
      if (entry.path().extension() == ".cpp") files.push_back(entry.path());
  for (const auto& file : files) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const std::string source = text.str();
    for (std::sregex_iterator it(source.begin(), source.end(), test_case), end; it != end; ++it) {
      const std::string name = (*it)[1].str();
      ++names;
      INFO(file.filename().string(), ": \"", name, "\"");
      CHECK(name.find_first_of(",*?[]\\") == std::string::npos);
    }
  }
  CHECK(names > 50);
}
