// How the student runs lab, so that every lab command a message suggests can
// be typed as it is shown: "bin/lab hint primes" in a fresh checkout (where
// bin/lab is all there is), "lab hint primes" when lab is on the PATH, and
// "hint primes" inside the REPL, where lab's commands are typed without "lab".
//
// bin/lab says how it was started in the environment variable
// LAB_INVOKED_AS; without it (the binary run directly, as the tests do) the
// command is "lab". Every suggestion goes through lab_command (a test fails
// on a lab command spelt out in a message anywhere else).
#pragma once

#include <string>
#include <string_view>

namespace lab {

// Set by bin/lab: the path it was run by ("bin/lab", "../bin/lab"), or "lab"
// when the shell found it on the PATH.
inline constexpr const char* invoked_as_variable = "LAB_INVOKED_AS";

// What to type to run lab with `arguments` ("hint primes"): "bin/lab hint
// primes", "lab hint primes", or in the REPL "hint primes". With no
// arguments, how to start lab ("bin/lab"), also in the REPL.
std::string lab_command(std::string_view arguments = {});

// True while the REPL runs commands (see repl_suggestions).
bool in_repl();

// Takes how lab was started from LAB_INVOKED_AS. Called once, by main, before
// anything is printed and before any thread starts.
void take_invocation_from_environment();

// While one is alive, suggestions are the REPL's: lab_command("hint primes")
// is "hint primes". The REPL holds one while it reads and runs commands.
// Main thread only.
class repl_suggestions {
 public:
  repl_suggestions();
  ~repl_suggestions();
  repl_suggestions(const repl_suggestions&) = delete;
  repl_suggestions& operator=(const repl_suggestions&) = delete;

 private:
  bool was_in_repl_;
};

}  // namespace lab
