// lab: main() parses and dispatches, nothing else.
#include "app.hpp"

int main(int argc, char** argv) {
  return lab::run_command_line(argc, argv);
}
