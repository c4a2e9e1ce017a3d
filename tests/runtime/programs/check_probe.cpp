// Test program for check_main_test: a check file, linked with the harness
// (lab_check) like a student's check program. Each check does one thing the
// harness must report; the tests pick them by name with -tc=.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <lab/check.hpp>
#include <lab/protocol.hpp>
#include <lab/todo.hpp>
#include <string>

namespace {

namespace env = lab::protocol::env;

// What the student's static initialisers see of the channel: nothing, since
// the harness took it first.
const bool channel_seen_at_static_init =
    std::getenv(env::result_fd) != nullptr || std::getenv(env::run_secret) != nullptr;

// Recurses until the stack runs out (volatile: not turned into a loop; the
// depth never comes back to -1).
int overflow(int depth) {
  if (depth == -1) return 0;
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  return overflow(depth + 1) + frame[0];
}

lab::check::timed stage_one(1, [](long size, int workers) {
  volatile long sum = 0;
  for (long i = 0; i < size * workers; ++i) sum = sum + i;
});

}  // namespace

namespace {
int passes_ran = 0;  // times the check "passes" ran (main thread only)
}  // namespace

TEST_CASE("passes") {
  ++passes_ran;
  CHECK(lab::check::stage() == 2);
}

TEST_CASE("fails with a message") {
  MESSAGE("a figure worth showing");
  const int two = 2;
  CHECK(two == 3);
}

TEST_CASE("stops at a todo") {
  lab::todo("the stub's work");
}

TEST_CASE("finds no channel in its environment") {
  CHECK_FALSE(channel_seen_at_static_init);
  CHECK(std::getenv(env::result_fd) == nullptr);
  CHECK(std::getenv(env::run_secret) == nullptr);
}

TEST_CASE("crashes after a todo") {
  try {
    lab::todo("the part before the crash");
  } catch (const lab::not_done&) {
  }
  raise(SIGSEGV);
}

TEST_CASE("overflows its stack") {
  CHECK(overflow(0) != 0);
}

TEST_CASE("aborts") {
  std::abort();
}

TEST_CASE("fails with text behind a char pointer") {
  const bool processes = lab::check::stage() == 3;
  const char* unit = processes ? "process" : "thread";
  char buffer[32] = "a buffer";
  CHECK_MESSAGE(processes, "the calling ", unit, " and ", processes ? "children" : "workers",
                " and ", buffer);
}

TEST_CASE("prints on both streams") {
  std::printf("on stdout, ");
  std::printf("in two parts\n");
  std::fprintf(stderr, "on stderr\n");
}

TEST_CASE("prints and then crashes") {
  std::printf("its last words\n");  // no flush: stdio must have sent the line already
  raise(SIGSEGV);
}

// A doctest run of the student's own, after main's (at exit, when lab's
// reporter is registered and main's run is over): it runs the check
// "passes" again, and the harness's reporter must stay silent in it.
TEST_CASE("runs a doctest context of its own at exit") {
  std::atexit([] {
    doctest::Context context;
    context.setOption("reporters", "lab");
    context.setOption("test-case", "passes");
    context.run();
    std::printf("its own run ran passes %d time(s)\n", passes_ran);
  });
}

TEST_CASE("forks a child that returns") {
  const pid_t child = fork();
  if (child == 0) return;  // the child returns into the harness
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 70);
}
