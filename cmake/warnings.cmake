# lab_warnings: an INTERFACE target carrying the project's warning flags.
# Link it PRIVATE. LAB_WARNINGS_AS_ERRORS (on in the dev preset) adds -Werror.
option(LAB_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)

add_library(lab_warnings INTERFACE)
target_compile_options(lab_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
  -Woverloaded-virtual -Wdouble-promotion -Wformat=2
  -Wimplicit-fallthrough)
if(LAB_WARNINGS_AS_ERRORS)
  target_compile_options(lab_warnings INTERFACE -Werror)
endif()
# Not -Wnull-dereference: with g++ 12 at -O2 it fires inside inlined standard
# library and nlohmann/json code (false positives we cannot fix).
