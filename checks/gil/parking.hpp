// Holding a waiter still inside the student's acquire().
//
// Forced switching means: after a drop request, the holder lets go and does
// not come back until another thread has taken the lock. A holder that only
// sleeps a little, or takes the lock straight back, looks right whenever the
// waiter is quick to wake up; it shows only when the waiter is slow. So the
// check makes the waiter as slow as it likes: a signal sent to the waiter
// runs a handler that waits, on the waiter's own thread, until the check lets
// it go ("parked"). While it is parked, nobody can take the lock; a holder
// that comes back from its safepoint anyway did not wait for the switch.
//
// lesson: gil
#pragma once

#include <pthread.h>

namespace parking {

// Holds `thread` where it is until unpark(): sends it the park signal (the
// handler is installed on first use). Returns at once; parked() tells when
// the thread has stopped. One thread at a time.
void park(pthread_t thread);

// True once the thread sent to park() is held in the handler.
bool parked();

// Lets the parked thread go on with whatever it was doing.
void unpark();

}  // namespace parking
