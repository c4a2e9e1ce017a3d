# Every third-party library comes from Debian packages through find_package:
# no vendored copies and no downloads at build time. bin/lab and bin/test
# install the packages when they are missing (see bin/lib/setup.sh).
find_package(Threads REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(nlohmann_json CONFIG REQUIRED)
find_package(doctest CONFIG REQUIRED)

# libedit ships a pkg-config file but no CMake package.
find_package(PkgConfig REQUIRED)
pkg_check_modules(libedit REQUIRED IMPORTED_TARGET libedit)

# HTTP for the download demo: cpp-httplib (server and blocking client; a
# pkg-config file, no CMake package) and http-parser (the event-loop
# clients' response parser; neither a pkg-config file nor a CMake package).
pkg_check_modules(cpp_httplib REQUIRED IMPORTED_TARGET cpp-httplib)
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(http_parser::http_parser UNKNOWN IMPORTED)
set_target_properties(http_parser::http_parser PROPERTIES
  IMPORTED_LOCATION "${HTTP_PARSER_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${HTTP_PARSER_INCLUDE_DIR}")

# Stack switching for green threads (lab/green.hpp).
find_package(Boost 1.74 REQUIRED COMPONENTS context)

# SQLite, for green.blocking_db: a real database whose C code blocks the
# thread that queries it (a pkg-config file, no CMake package).
pkg_check_modules(sqlite3 REQUIRED IMPORTED_TARGET sqlite3)
