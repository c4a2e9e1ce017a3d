// The counting server on green threads: a greenlet per connection, one
// thread for all of them.
//
// lesson: green-threads, slide "The counting server, green"
//
//   counting.green       takes its number in one step, then waits for the
//                        simulated request: unique numbers without a lock
//   counting.green_wait  reads the counter, waits, then writes it back: the
//                        race of counting.threaded is back
//
// Green threads are never preempted: a greenlet runs until it waits. So
// between two waits its code runs as one step for the others, and a
// read-then-write with no wait in between needs no lock. Put a wait between
// the read and the write (here the simulated request; in real code any call
// that does I/O) and other greenlets run in the gap: they read the same
// value, and updates are lost as with threads. The waits are green sleeps
// (lab::green::sleep), so the clients' requests overlap.
#include <chrono>
#include <memory>
#include <vector>

#include <lab/green.hpp>
#include <lab/green_patch.hpp>
#include <lab/net/socket.hpp>

#include "counting_reply.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

// How a handler updates the shared counter.
enum class update { before_the_wait, around_the_wait };

// Serves each client on a greenlet of its own with `how`. `served` is
// touched only by greenlets of this one thread: no two ever run at once.
void serve_with_greenlets(net::listener& listener, int stop_fd, const server_options& options,
                          update how) {
  green::patch_all();  // the poll() waiting for clients waits as a greenlet
  long served = 0;
  green::spawn_named("acceptor", [&] {
    std::vector<green::greenlet<void>> handlers;
    while (wait_for_client_or_stop(listener.fd.get(), stop_fd)) {
      std::erase_if(handlers, [](const green::greenlet<void>& g) { return g.done(); });
      auto client = std::make_shared<unique_fd>(net::accept_client(listener.fd.get()));
      if (!*client) continue;
      handlers.push_back(green::spawn_named("handler", [&served, &options, how, client] {
        const auto start = clock_type::now();
        long number = 0;
        if (how == update::before_the_wait) {
          number = ++served;            // read and write, with no wait between: one step
          green::sleep(options.work);   // the simulated request; others run meanwhile
        } else {
          const long tmp = served;      // read
          green::sleep(options.work);   // a wait: every other handler runs here
          served = tmp + 1;             // write what may be stale by now
          number = tmp + 1;
        }
        reply_with_number(client->get(), number, clock_type::now() - start);
      }));
    }
    for (const auto& g : handlers) g.join();  // finish what was started
  });
  green::run();
  green::unpatch_all();
}

void serve_counting_green(net::listener& listener, int stop_fd, const server_options& options) {
  serve_with_greenlets(listener, stop_fd, options, update::before_the_wait);
}

void serve_counting_green_wait(net::listener& listener, int stop_fd, const server_options& options) {
  serve_with_greenlets(listener, stop_fd, options, update::around_the_wait);
}

const server_registration counting_green_server{
    {.name = "counting.green",
     .summary = "counting server on green threads, no wait inside the update: unique without a lock",
     .kind = server_kind::counting,
     .serve = serve_counting_green}};
const server_registration counting_green_wait_server{
    {.name = "counting.green_wait",
     .summary = "counting server on green threads, a wait between read and write: the race is back",
     .kind = server_kind::counting,
     .serve = serve_counting_green_wait}};

}  // namespace
}  // namespace lab::demos
