// How lab writes to the terminal: colour only where it helps, never when
// NO_COLOR is set or the output is not a terminal (a pipe, a CI log).
#pragma once

#include <string>
#include <string_view>

namespace lab {

struct style {
  bool color = false;   // ANSI colours
  bool unicode = true;  // ✔/✘ rather than ok/FAIL

  std::string good(std::string_view text) const;    // green
  std::string bad(std::string_view text) const;     // red
  std::string note(std::string_view text) const;    // dim
  std::string strong(std::string_view text) const;  // bold
  std::string pass_mark() const;                    // "✔"
  std::string fail_mark() const;                    // "✘"
  std::string undecided_mark() const;               // "?": the machine was too busy to decide
};

// The style for a stream: colour if it is a terminal and NO_COLOR is unset.
style style_for(int fd);

// The terminal's width in columns, or 100 when it is not a terminal.
int terminal_width(int fd);

}  // namespace lab
