#include "invocation.hpp"

#include <cstdlib>

namespace lab {
namespace {

// Set once at start-up and by the REPL, both on the main thread, which is
// the only one that prints suggestions.
std::string program = "lab";
bool repl_running = false;

// `word` as a shell reads it: as it is when it holds only characters that
// mean nothing to a shell, else in single quotes ("/home/ana's lab/bin/lab").
std::string shell_word(const std::string& word) {
  if (word.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+") ==
      std::string::npos)
    return word;
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::string lab_command(std::string_view arguments) {
  if (arguments.empty()) return shell_word(program);
  if (repl_running) return std::string(arguments);
  return shell_word(program) + " " + std::string(arguments);
}

bool in_repl() {
  return repl_running;
}

void take_invocation_from_environment() {
  const char* given = std::getenv(invoked_as_variable);
  program = given != nullptr && *given != '\0' ? given : "lab";
}

repl_suggestions::repl_suggestions() : was_in_repl_(repl_running) {
  repl_running = true;
}

repl_suggestions::~repl_suggestions() {
  repl_running = was_in_repl_;
}

}  // namespace lab
