#include "render.hpp"

#include <fmt/core.h>

#include <set>
#include <sstream>

namespace lab {
namespace {

const std::set<std::string> cpp_keywords = {
    "auto",      "bool",     "break",     "case",      "catch",    "char",     "class",    "const",
    "constexpr", "continue", "co_await",  "co_return", "co_yield", "default",  "delete",   "do",
    "double",    "else",     "enum",      "false",     "for",      "if",       "include",  "inline",
    "int",       "long",     "namespace", "new",       "nullptr",  "private",  "public",   "return",
    "size_t",    "static",   "std",       "struct",    "switch",   "template", "this",     "throw",
    "true",      "try",      "typename",  "unsigned",  "using",    "void",     "volatile", "while"};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Lines of a slide body, grouped into blocks: paragraphs, list items, code.
struct block {
  enum kind_t { paragraph, item, code, blank } kind;
  std::string text;      // paragraph/item text joined with spaces; code lines joined with \n
  std::string language;  // for code
};

std::vector<block> split_blocks(const std::string& body) {
  std::vector<block> blocks;
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("```", 0) == 0) {
      block b{block::code, "", line.substr(3)};
      while (std::getline(lines, line) && line.rfind("```", 0) != 0) b.text += line + "\n";
      blocks.push_back(b);
    } else if (line.find_first_not_of(" \t") == std::string::npos) {
      blocks.push_back({block::blank, "", ""});
    } else if (line.rfind("- ", 0) == 0 || line.rfind("* ", 0) == 0) {
      blocks.push_back({block::item, line.substr(2), ""});
    } else if (!blocks.empty() &&
               (blocks.back().kind == block::paragraph || blocks.back().kind == block::item) &&
               line.rfind("#", 0) != 0) {
      blocks.back().text += " " + line.substr(line.find_first_not_of(" \t"));
    } else {
      blocks.push_back({block::paragraph, line, ""});
    }
  }
  return blocks;
}

// `inline code` and **bold** made visible in colour, or left as they are.
std::string inline_markup(const std::string& text, const style& s) {
  if (!s.color) return text;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '`') {
      const auto close = text.find('`', i + 1);
      if (close != std::string::npos) {
        out += s.strong(text.substr(i + 1, close - i - 1));
        i = close;
        continue;
      }
    }
    if (text.compare(i, 2, "**") == 0) {
      const auto close = text.find("**", i + 2);
      if (close != std::string::npos) {
        out += s.strong(text.substr(i + 2, close - i - 2));
        i = close + 1;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace

std::string wrap_paragraph(const std::string& text, int width, int indent) {
  std::istringstream words(text);
  std::string word, out, line;
  const auto limit = static_cast<std::size_t>(std::max(20, width));
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > limit) {
      out += line + "\n";
      line = std::string(static_cast<std::size_t>(indent), ' ');
    }
    if (!line.empty() && line.find_first_not_of(' ') != std::string::npos) line += " ";
    line += word;
  }
  if (!line.empty()) out += line + "\n";
  return out;
}

std::string color_code_line(const std::string& line, const std::string& language, const style& s) {
  if (!s.color) return line;
  if (language == "sh" || language == "console") {
    if (line.rfind("$ ", 0) == 0) return s.strong("$ ") + line.substr(2);
    return s.note(line);
  }
  std::string out;
  for (std::size_t i = 0; i < line.size();) {
    if (line.compare(i, 2, "//") == 0 || (language != "cpp" && line[i] == '#')) {
      out += s.note(line.substr(i));
      break;
    }
    if (line[i] == '"') {
      auto close = line.find('"', i + 1);
      while (close != std::string::npos && line[close - 1] == '\\')
        close = line.find('"', close + 1);
      const auto end = close == std::string::npos ? line.size() : close + 1;
      out += s.good(line.substr(i, end - i));
      i = end;
      continue;
    }
    if (is_word_char(line[i])) {
      auto end = i;
      while (end < line.size() && is_word_char(line[end])) ++end;
      const std::string word = line.substr(i, end - i);
      out += cpp_keywords.count(word) ? s.strong(word) : word;
      i = end;
      continue;
    }
    out += line[i++];
  }
  return out;
}

std::string render_slide(const lesson& l, std::size_t index, const style& s, int width) {
  const slide& sl = l.slides.at(index);
  std::string out;
  const std::string header =
      fmt::format("── {} {}/{} ── {}", l.key, index + 1, l.slides.size(), sl.title);
  out += s.strong(header) + "\n\n";
  const int text_width = std::min(width, 100) - 2;
  for (const auto& b : split_blocks(sl.body)) {
    switch (b.kind) {
      case block::blank:
        break;
      case block::paragraph:
        out += inline_markup(wrap_paragraph(b.text, text_width, 0), s) + "\n";
        break;
      case block::item:
        out += inline_markup(wrap_paragraph("• " + b.text, text_width, 2), s);
        break;
      case block::code: {
        std::istringstream code(b.text);
        std::string line;
        while (std::getline(code, line))
          out += "    " + color_code_line(line, b.language, s) + "\n";
        out += "\n";
        break;
      }
    }
  }
  while (out.size() >= 2 && out.substr(out.size() - 2) == "\n\n") out.pop_back();
  if (sl.demo) {
    std::string params;
    for (const auto& [key, value] : sl.demo->params) params += " " + key + "=" + value;
    out +=
        "\n" +
        (sl.demo->coming ? s.note(fmt::format("▶ demo {}{} (coming in a later version of the lab)",
                                              sl.demo->name, params))
                         : s.good(fmt::format("▶ demo {}{}", sl.demo->name, params)) +
                               s.note("  type `run` (or `run key=value ...`)")) +
        "\n";
  }
  if (sl.exercise) {
    out += sl.exercise->coming
               ? s.note(fmt::format("▶ exercise {} (coming in a later version of the lab)",
                                    sl.exercise->name)) +
                     "\n"
               : s.good(fmt::format("▶ exercise {}", sl.exercise->name)) +
                     s.note(fmt::format("  type `exercise` (edit exercises/{}.cpp)",
                                        sl.exercise->name)) +
                     "\n";
  }
  return out;
}

}  // namespace lab
