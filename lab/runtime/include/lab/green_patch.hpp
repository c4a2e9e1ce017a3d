// Monkey patching, the C++ way: gevent's monkey.patch_all() replaces
// Python's blocking functions so that old code cooperates with greenlets.
// Linking lab_green_patch puts cooperative versions of the blocking C calls
// in front of the C library's: sleep, usleep, nanosleep, read, recv, write,
// send, accept, connect and poll. (The executable's own definitions of these
// names are the ones every caller gets, shared libraries included.)
//
// Each of them behaves as the C library's, unless patching is on and the
// caller runs in a greenlet: then, instead of blocking the thread (and with
// it every greenlet), it waits through the hub (lab::green::sleep, or the
// descriptor's readiness) and lets the others run meanwhile.
//
//   lab::green::patch_all();
//   lab::green::spawn([] { ::sleep(1); });   // now a green sleep: nobody else stops
//
// Calls outside greenlets, or with patching off, go straight to the C library.
#pragma once

namespace lab::green {

void patch_all();
void unpatch_all();
bool patched();

}  // namespace lab::green
