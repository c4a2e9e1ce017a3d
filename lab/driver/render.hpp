// Showing a slide in the terminal: prose wrapped to the width, lists with a
// hanging indent, code blocks indented with light syntax colouring (only
// when the style has colour), and the slide's demo and exercise pointers.
#pragma once

#include <string>

#include "lesson.hpp"
#include "terminal.hpp"

namespace lab {

// The slide as text for a terminal of `width` columns.
std::string render_slide(const lesson& l, std::size_t index, const style& s, int width);

// Wraps `text` (one paragraph) to `width`, starting lines after the first
// with `indent` spaces.
std::string wrap_paragraph(const std::string& text, int width, int indent);

// One line of code with keywords, comments and strings coloured.
std::string color_code_line(const std::string& line, const std::string& language, const style& s);

}  // namespace lab
