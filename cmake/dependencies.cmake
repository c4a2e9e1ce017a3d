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
