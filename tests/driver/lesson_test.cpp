#include "lesson.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace {

std::string parse_error(const std::string& text, const std::string& name = "05-gil.md") {
  try {
    lab::parse_lesson(fs::path("lessons") / name, text);
  } catch (const lab::lesson_error& error) {
    return error.what();
  }
  return "";
}

const char* const good_lesson =
    "# The GIL\n"
    "Follows lecture 001.\n"
    "---\n"
    "## Threads take turns\n"
    "Expect the same time for 1 and 5 workers.\n"
    "```demo\n"
    "primes stage=1 workers=1,5\n"
    "```\n"
    "```cpp\n"
    "---\n"
    "int x;\n"
    "```\n"
    "---\n"
    "## Questions\n"
    "- Why?\n"
    "```exercise\n"
    "primes\n"
    "```\n";

}  // namespace

TEST_CASE("a lesson parses into slides with titles and demos and exercise pointers") {
  const auto lesson = lab::parse_lesson("lessons/05-gil.md", good_lesson);
  CHECK(lesson.key == "gil");
  CHECK(lesson.title == "The GIL");
  REQUIRE(lesson.slides.size() == 3);
  CHECK(lesson.slides[1].title == "Threads take turns");
  REQUIRE(lesson.slides[1].demo.has_value());
  CHECK(lesson.slides[1].demo->name == "primes");
  CHECK(lesson.slides[1].demo->params ==
        std::vector<std::pair<std::string, std::string>>{{"stage", "1"}, {"workers", "1,5"}});
  CHECK_FALSE(lesson.slides[1].demo->coming);
  CHECK(lesson.slides[1].body.find("---\nint x;") != std::string::npos);  // --- inside code is code
  CHECK(lesson.slides[1].body.find("primes stage") ==
        std::string::npos);  // directives leave the body
  REQUIRE(lesson.slides[2].exercise.has_value());
  CHECK(lesson.slides[2].exercise->name == "primes");
  CHECK(lesson.slides[2].line == 14);
}

TEST_CASE("malformed lessons get a clear error with file and line") {
  struct bad_case {
    std::string text;
    const char* error;
  };
  const bad_case cases[] = {
      {"# T\n```cpp\nint x;\n", "lessons/05-gil.md:2: a code block opened here is never closed"},
      {"# T\n---\n---\n## U\n", "lessons/05-gil.md:3: an empty slide"},
      {"# T\n---\n\n", "an empty slide"},
      {"## T\n", "lessons/05-gil.md:1: the first slide must start with \"# Title\""},
      {"# T\n---\nno heading\n", "lessons/05-gil.md:3: a slide must start with \"## Title\""},
      {"# T\n```demos\nx\n```\n", "lessons/05-gil.md:2: unknown directive \"demos\""},
      {"# T\n```demo\nprimes stage\n```\n", "lessons/05-gil.md:2: \"stage\" is not key=value"},
      {"# T\n```demo\n\n```\n", "lessons/05-gil.md:2: an empty directive block"},
      {"# T\n```demo\na\n```\n```demo\nb\n```\n",
       "lessons/05-gil.md:5: a slide may carry one demo"},
      {"# T\n```exercise\na\nb\n```\n", "a directive block holds one line"},
      {std::string("# T\n\0junk", 10), "not a text file"},
  };
  for (const auto& c : cases) {
    INFO("lesson text: ", c.text);
    CHECK(parse_error(c.text).find(c.error) != std::string::npos);
  }
}

TEST_CASE("lesson files must be named NN-key.md") {
  CHECK(parse_error("# T\n", "gil.md").find("named NN-key.md") != std::string::npos);
  CHECK(parse_error("# T\n", "05-GIL.md").find("named NN-key.md") != std::string::npos);
  CHECK(parse_error("# T\n", "05-gil.md").empty());
}

TEST_CASE("random junk never crashes the parser: it parses or gives an error with a place") {
  const std::uint64_t seed = std::random_device{}();
  INFO("seed ", seed);
  std::mt19937_64 random(seed);
  const std::string pieces[] = {
      "# T\n",        "## U\n", "---\n", "```\n", "```demo\n", "```exercise coming\n",
      "primes a=1\n", "text\n", "\n",    "\r\n",  "\x01\xff",  "k=v\n",
      "```cpp\n"};
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int count = std::uniform_int_distribution<int>(0, 12)(random);
    for (int i = 0; i < count; ++i) text += pieces[random() % std::size(pieces)];
    if (random() % 4 == 0) text += static_cast<char>(random() % 256);
    const std::string error = parse_error(text);
    if (!error.empty()) CHECK(error.rfind("lessons/05-gil.md:", 0) == 0);
  }
}

TEST_CASE("a malformed lesson file does not stop the others from loading") {
  std::string pattern = (fs::temp_directory_path() / "lab-lessons-XXXXXX").string();
  REQUIRE(mkdtemp(pattern.data()) != nullptr);
  const fs::path folder = pattern;
  std::ofstream(folder / "01-good.md") << "# Good\n---\n## Next\ntext\n";
  std::ofstream(folder / "02-bad.md") << "# Bad\n```cpp\n";
  std::ofstream(folder / "README.md") << "not a lesson";
  const auto set = lab::load_lessons(folder);
  REQUIRE(set.lessons.size() == 1);
  CHECK(set.lessons[0].key == "good");
  REQUIRE(set.errors.size() == 1);
  CHECK(set.errors[0].find("02-bad.md:2:") != std::string::npos);
}
