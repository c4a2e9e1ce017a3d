// The harness's end of the result channel: taken from the environment before
// any student code runs, and used by nothing outside check_main.cpp.
//
// Private to check_main.cpp, which includes it once: everything here has
// internal linkage, so no other file (least of all the student's) can call
// it. See the top of check_main.cpp for why.
#pragma once

#ifndef LAB_CHECK_MAIN_TRANSLATION_UNIT
#error private to check_main.cpp: include it there only
#endif

#include <sys/types.h>
#include <unistd.h>

#include <string>

#include "lab/protocol.hpp"

namespace lab::check {
namespace {

// The channel and the harness's pid, set by take_channel() and never changed
// after. Both are constant-initialised (a null pointer, a zero), so no
// dynamic initialiser of theirs runs after take_channel() to undo it. The
// writer is never destroyed: code that runs during exit still finds it.
const protocol::channel_writer* the_channel = nullptr;
pid_t the_harness_pid = 0;

// Takes the channel and its secret out of the environment. Priority 101 is
// the first one a program may use, so this runs before every ordinary static
// initialiser (the student's run at the default priority, 65535): student
// code never finds the channel's variables in its environment.
__attribute__((constructor(101))) void take_channel() {
  the_channel = new protocol::channel_writer(protocol::take_channel_from_environment());
  the_harness_pid = getpid();
}

const protocol::channel_writer& channel() {
  return *the_channel;
}

// Sends one event to lab (nothing if the program runs without a channel).
// Normal context only: it allocates. Safe from any thread (one write per line).
void send(const protocol::event& e) {
  channel().send(e);
}

// A child forked by the student's code that returned into the harness
// instead of calling _exit() would go on running checks beside its parent.
// Tell lab once, and stop that child here.
void stop_if_forked_child(const std::string& check) {
  if (getpid() == the_harness_pid) return;
  send(protocol::forked_child_returned{check});
  _exit(70);
}

}  // namespace
}  // namespace lab::check
