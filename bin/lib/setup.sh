# Shared by bin/lab and bin/test: install what lab needs from Debian, then
# configure and build incrementally. Sourced, not run.
#
# The packages below are everything the build needs on a fresh Debian 12
# machine with only the stock toolchain. As root they are installed with
# apt-get; otherwise we print the one command to run and stop.

lab_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

lab_packages=(cmake ninja-build g++ pkg-config libcli11-dev libfmt-dev nlohmann-json3-dev doctest-dev libedit-dev
              libcpp-httplib-dev libhttp-parser-dev libboost-context-dev libsqlite3-dev)

# lab_missing_packages PKG...: prints the ones not installed. One dpkg-query
# for all of them: bin/lab asks before every run, and a query per package
# cost more than the no-op build that follows.
lab_missing_packages() {
  local installed package
  installed=$'\n'"$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null |
    awk '$(NF-2) == "install" && $(NF-1) == "ok" && $NF == "installed" {print $1}')"$'\n'
  for package in "$@"; do
    [[ "$installed" == *$'\n'"$package"$'\n'* ]] || printf '%s\n' "$package"
  done
}

# lab_ensure_packages [EXTRA...]: installs missing packages as root, or
# explains how and exits 1.
lab_ensure_packages() {
  local missing
  mapfile -t missing < <(lab_missing_packages "${lab_packages[@]}" "$@")
  [ "${#missing[@]}" -eq 0 ] && return 0
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "lab: needs a Debian-like system with apt-get; install these by hand: ${missing[*]}" >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "lab: missing packages. Install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "lab: installing ${missing[*]} (once)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"/tmp/lab-apt.$$.log" 2>&1; then
    tail -n 20 "/tmp/lab-apt.$$.log" >&2
    echo "lab: apt-get failed (log above); fix it and run again" >&2
    exit 1
  fi
  rm -f "/tmp/lab-apt.$$.log"
}

# lab_stderr_is_terminal: whether the counter may rewrite one line (a test
# that has no pseudo-terminal to give stands in for it by redefining this).
lab_stderr_is_terminal() {
  [ -t 2 ]
}

# lab_show_progress LOG LABEL: reads a build's output on stdin, keeps all of
# it in LOG, and shows the step counter ninja prints ("[12/150] Building
# ..."): on one updating line when stderr is a terminal, else a plain line
# for each tenth of the build (and the last step), so a CI log stays short.
lab_show_progress() {
  local log="$1" label="$2" line done total shown=-1 tenth
  : >"$log"
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$log"
    [[ "$line" =~ ^\[([0-9]+)/([0-9]+)\]\  ]] || continue
    done="${BASH_REMATCH[1]}" total="${BASH_REMATCH[2]}"
    [ "$total" -gt 0 ] || continue
    if lab_stderr_is_terminal; then
      printf '\r\033[2Klab: %s: step %s of %s' "$label" "$done" "$total" >&2
    else
      tenth=$((done * 10 / total))
      if [ "$tenth" -gt "$shown" ] || [ "$done" -eq "$total" ]; then
        shown="$tenth"
        printf 'lab: %s: step %s of %s\n' "$label" "$done" "$total" >&2
      fi
    fi
  done
  if lab_stderr_is_terminal && [ -n "${total:-}" ]; then printf '\r\033[2K' >&2; fi
}

# lab_lock_build LOCKFILE: takes the lock of one build folder on a new file
# descriptor (kept in lab_build_lock_fd until lab_unlock_build), first
# saying so if another lab holds it. Two builds in one folder at once would
# compile the same files over each other.
lab_lock_build() {
  exec {lab_build_lock_fd}>"$1"
  if ! flock -n "$lab_build_lock_fd"; then
    echo "lab: waiting for another lab's build to finish..." >&2
    flock "$lab_build_lock_fd"
  fi
}

# lab_unlock_build: lets other labs build (and keeps the lock out of the
# programs started after the build).
lab_unlock_build() {
  exec {lab_build_lock_fd}>&-
}

# lab_build PRESET [TARGET...]: configures (once) and builds, showing a step
# counter; on a failure shows the build's output and exits 1.
lab_build() {
  local preset="$1"
  shift
  local build_dir="$lab_root/build/$preset"
  local log="$build_dir.log"
  mkdir -p "$lab_root/build"
  lab_lock_build "$build_dir.lock"
  if [ ! -f "$build_dir/build.ninja" ]; then
    echo "lab: first build of lab ($preset): a few minutes on two cores; the steps are counted below" >&2
    if ! (cd "$lab_root" && cmake --preset "$preset") >"$log" 2>&1; then
      cat "$log" >&2
      echo "lab: configuring failed (output above)" >&2
      exit 1
    fi
  fi
  local targets=()
  local target
  for target in "$@"; do targets+=(--target "$target"); done
  # The counter's format, whatever NINJA_STATUS the user has.
  if ! NINJA_STATUS="[%f/%t] " cmake --build "$build_dir" "${targets[@]}" 2>&1 |
    lab_show_progress "$log" "building lab ($preset)"; then
    cat "$log" >&2
    echo "lab: building lab failed (output above)" >&2
    exit 1
  fi
  lab_unlock_build
}
