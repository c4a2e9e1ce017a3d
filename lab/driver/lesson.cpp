#include "lesson.hpp"

#include "demo_params.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

namespace lab {
namespace fs = std::filesystem;
namespace {

// Where a problem is: "lessons/05-gil.md:12".
std::string place(const fs::path& file, int line) {
  const std::string shown = file.has_parent_path()
                                ? (file.parent_path().filename() / file.filename()).string()
                                : file.string();
  return fmt::format("{}:{}", shown, line);
}

[[noreturn]] void fail(const fs::path& file, int line, const std::string& what) {
  throw lesson_error(fmt::format("{}: {}", place(file, line), what));
}

bool valid_key(const std::string& key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// Reads one fenced directive block's content (the single non-empty line).
std::string directive_content(const std::vector<std::string>& lines, const fs::path& file,
                              int line) {
  std::string content;
  for (const auto& text : lines) {
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    if (!content.empty()) fail(file, line, "a directive block holds one line");
    content = text;
  }
  if (content.empty()) fail(file, line, "an empty directive block");
  return content;
}

// Turns a finished slide's lines into a slide; `first` is the lesson's first slide.
// `end_line` is the line that ended the slide (its "---", or the file's last).
slide make_slide(const std::vector<std::pair<int, std::string>>& lines, const fs::path& file,
                 bool first, int end_line) {
  slide s;
  std::size_t i = 0;
  while (i < lines.size() && lines[i].second.find_first_not_of(" \t") == std::string::npos) ++i;
  if (i == lines.size()) fail(file, end_line, "an empty slide (two --- in a row?)");
  s.line = lines[i].first;
  const std::string heading = first ? "# " : "## ";
  if (lines[i].second.rfind(heading, 0) != 0)
    fail(file, s.line,
         first ? "the first slide must start with \"# Title\""
               : "a slide must start with \"## Title\"");
  s.title = lines[i].second.substr(heading.size());

  std::string body;
  for (++i; i < lines.size(); ++i) {
    const auto& [number, text] = lines[i];
    if (text.rfind("```", 0) != 0) {
      body += text + "\n";
      continue;
    }
    const std::string info = text.substr(3);
    std::vector<std::string> block;
    std::size_t close = i + 1;
    while (close < lines.size() && lines[close].second.rfind("```", 0) != 0)
      block.push_back(lines[close++].second);
    if (close == lines.size())
      fail(file, number, "a code block opened here is never closed with ```");
    const bool is_demo = info == "demo" || info == "demo coming";
    const bool is_exercise = info == "exercise" || info == "exercise coming";
    if (is_demo) {
      if (s.demo) fail(file, number, "a slide may carry one demo");
      const std::string content = directive_content(block, file, number);
      demo_directive d;
      d.line = number;
      d.coming = info == "demo coming";
      std::istringstream words(content);
      words >> d.name;
      std::string rest;
      std::getline(words, rest);
      try {
        d.params = parse_params_text(rest);
      } catch (const std::invalid_argument& error) {
        fail(file, number, error.what());
      }
      s.demo = d;
    } else if (is_exercise) {
      if (s.exercise) fail(file, number, "a slide may point to one exercise");
      std::string name = directive_content(block, file, number);
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t") + 1);
      s.exercise = exercise_pointer{name, info == "exercise coming", number};
    } else if (info.rfind("demo", 0) == 0 || info.rfind("exercise", 0) == 0) {
      fail(file, number,
           fmt::format(
               "unknown directive \"{}\" (expected demo, demo coming, exercise or exercise coming)",
               info));
    } else {
      body += text + "\n";
      for (const auto& code : block) body += code + "\n";
      body += lines[close].second + "\n";
    }
    i = close;
  }
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ')) body.pop_back();
  s.body = body;
  return s;
}

}  // namespace

lesson parse_lesson(const fs::path& file, const std::string& text) {
  static const std::regex file_name("[0-9][0-9]-([a-z0-9-]+)\\.md");
  std::smatch match;
  const std::string name = file.filename().string();
  if (!std::regex_match(name, match, file_name) || !valid_key(match[1].str()))
    fail(file, 1, "lesson files are named NN-key.md (two digits, then a lowercase key)");
  if (text.find('\0') != std::string::npos)
    fail(file, 1, "not a text file (it contains NUL bytes)");

  lesson result;
  result.key = match[1].str();
  result.file = file;
  std::vector<std::pair<int, std::string>> current;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  bool in_code = false;  // "---" inside a code block is code, not a separator
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("```", 0) == 0) in_code = !in_code;
    if (line == "---" && !in_code) {
      result.slides.push_back(make_slide(current, file, result.slides.empty(), number));
      current.clear();
      continue;
    }
    current.emplace_back(number, line);
  }
  if (in_code) {
    // Find the unterminated fence for the message.
    int open_line = 0;
    bool open = false;
    for (const auto& [n, l] : current)
      if (l.rfind("```", 0) == 0) {
        open = !open;
        if (open) open_line = n;
      }
    fail(file, open_line == 0 ? number : open_line,
         "a code block opened here is never closed with ```");
  }
  result.slides.push_back(make_slide(current, file, result.slides.empty(), std::max(number, 1)));
  result.title = result.slides.front().title;
  return result;
}

const lesson* lesson_set::find(const std::string& key) const {
  auto found =
      std::find_if(lessons.begin(), lessons.end(), [&](const lesson& l) { return l.key == key; });
  return found == lessons.end() ? nullptr : &*found;
}

std::vector<std::string> lesson_set::keys() const {
  std::vector<std::string> result;
  for (const auto& l : lessons) result.push_back(l.key);
  return result;
}

lesson_set load_lessons(const fs::path& folder) {
  lesson_set set;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.path().extension() == ".md" && entry.path().filename() != "README.md")
      files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    try {
      lesson l = parse_lesson(file, text.str());
      if (set.find(l.key) != nullptr)
        fail(file, 1, fmt::format("a second lesson with the key \"{}\"", l.key));
      set.lessons.push_back(std::move(l));
    } catch (const lesson_error& error) {
      set.errors.push_back(error.what());
    }
  }
  return set;
}

}  // namespace lab
