#!/usr/bin/env bash
# Tests of bin/lib/setup.sh (build progress, build lock, package query), run by ctest:
#   build_progress_test.sh CASE
# Each case feeds the functions what a real build gives them (ninja's status
# lines, a lock another lab holds) and checks what a student would see.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../bin/lib/setup.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# What ninja prints for a build of `steps` steps, with a compiler warning in it.
fake_build_output() {
  local steps="$1" i
  for ((i = 1; i <= steps; i++)); do
    echo "[$i/$steps] Building CXX object lab/driver/CMakeFiles/lab_driver.dir/file$i.cpp.o"
    if [ "$i" -eq 3 ]; then echo "lab/driver/file3.cpp:1:1: warning: something"; fi
  done
}

case "${1:-}" in
plain-lines)
  fake_build_output 40 | lab_show_progress "$work/log" "building lab (test)" 2>"$work/shown"
  cat "$work/shown"
  grep -qx "lab: building lab (test): step 1 of 40" "$work/shown" || fail "no first step"
  grep -qx "lab: building lab (test): step 40 of 40" "$work/shown" || fail "no last step"
  lines=$(wc -l <"$work/shown")
  [ "$lines" -le 12 ] || fail "$lines lines for 40 steps: one per tenth was meant"
  [ "$lines" -ge 10 ] || fail "only $lines lines for 40 steps"
  ! grep -q $'\r' "$work/shown" || fail "carriage returns in a log"
  # The whole output, warning included, is kept for when the build fails.
  [ "$(wc -l <"$work/log")" -eq 41 ] || fail "the log does not hold the whole output"
  grep -q "warning: something" "$work/log" || fail "the warning is not in the log"
  ;;
terminal-line)
  # What a terminal shows: the counter rewrites one line. The terminal is
  # stood in for here, so this runs wherever the tests run; the case below
  # checks that a real one is recognised.
  lab_stderr_is_terminal() { true; }
  fake_build_output 5 | lab_show_progress "$work/log" "building lab (test)" 2>"$work/shown"
  cat -v "$work/shown"
  grep -q $'\r\033\\[2Klab: building lab (test): step 5 of 5' "$work/shown" ||
    fail "no updating counter line"
  steps=$(grep -o 'step [0-9]* of 5' "$work/shown" | wc -l)
  [ "$steps" -eq 5 ] || fail "$steps counter updates for 5 steps"
  newlines=$(tr -cd '\n' <"$work/shown" | wc -c)
  [ "$newlines" -eq 0 ] || fail "$newlines line breaks: the counter should stay on one line"
  tail -c 5 "$work/shown" | grep -q $'\r\033\\[2K$' || fail "the counter line is not cleared at the end"
  ;;
terminal-detect)
  # Under a real pseudo-terminal (script), stderr is taken for a terminal.
  # script runs its command with $SHELL, so that is set; its stdin is given,
  # since a runner may start the tests with stdin closed. A machine where
  # script cannot show a probe's output (no pseudo-terminals, as in some
  # containers) skips this case and says why.
  export SHELL=/bin/bash
  probe=$(script -qec "echo probe" /dev/null </dev/null 2>"$work/script.err" | tr -d '\r') || true
  if [ "$probe" != probe ]; then
    echo "skipped: script shows no output here (it printed '$probe'; stderr: $(head -c 300 "$work/script.err"))"
    exit 77
  fi
  export -f fake_build_output lab_show_progress lab_stderr_is_terminal
  script -qec "bash -c 'fake_build_output 5 | lab_show_progress $work/log \"building lab (test)\"'" \
    /dev/null </dev/null >"$work/shown" 2>"$work/script.err" || fail "script failed: $(cat "$work/script.err")"
  cat -v "$work/shown"
  grep -q $'\r\033\\[2Klab: building lab (test): step 5 of 5' "$work/shown" ||
    fail "a pseudo-terminal was not taken for a terminal (script said: $(cat "$work/script.err"))"
  ;;
no-steps)
  # A build with nothing to do (every bin/lab run) says nothing.
  echo "ninja: no work to do." | lab_show_progress "$work/log" "building lab (test)" 2>"$work/shown"
  [ ! -s "$work/shown" ] || fail "said something for a build with nothing to do: $(cat "$work/shown")"
  ;;
waits)
  # Another lab holds the build lock: the second says it waits, then takes it.
  exec {held}>"$work/build.lock"
  flock "$held"
  (
    exec {held}>&-  # the lock is the other lab's, not this one's
    lab_lock_build "$work/build.lock"
    echo taken
  ) >"$work/second.out" 2>"$work/second.err" &
  second=$!
  for ((i = 0; i < 1200; i++)); do  # told at once; the bound keeps a silent one from hanging
    grep -q "waiting" "$work/second.err" && break
    sleep 0.1
  done
  cat "$work/second.err"
  grep -qx "lab: waiting for another lab's build to finish..." "$work/second.err" ||
    fail "the second lab did not say that it waits"
  [ ! -s "$work/second.out" ] || fail "the second lab took the lock while the first held it"
  exec {held}>&-
  wait "$second"
  grep -qx taken "$work/second.out" || fail "the second lab never took the lock"
  ;;
free-lock)
  lab_lock_build "$work/build.lock" 2>"$work/err"
  [ ! -s "$work/err" ] || fail "said something for a free lock: $(cat "$work/err")"
  lab_unlock_build
  flock -n "$work/build.lock" true || fail "the lock is still held after lab_unlock_build"
  ;;
missing-packages)
  # One query for all packages: installed ones (bash and coreutils are on
  # every Debian) are not listed, unknown ones are, in the order asked.
  missing=$(lab_missing_packages bash lab-no-such-package coreutils lab-nor-this-one | tr '\n' ' ')
  [ "$missing" = "lab-no-such-package lab-nor-this-one " ] || fail "missing: '$missing'"
  [ -z "$(lab_missing_packages bash coreutils)" ] || fail "installed packages listed as missing"
  ;;
*)
  echo "usage: $0 plain-lines|terminal-line|terminal-detect|no-steps|waits|free-lock|missing-packages" >&2
  exit 2
  ;;
esac
echo "passed: $1"
