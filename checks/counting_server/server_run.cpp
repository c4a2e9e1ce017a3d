// The student's counting server, run by a check (see server_run.hpp).
#include "server_run.hpp"

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <lab/check/mutex_waits.hpp>

namespace server_run {
namespace {

// What a deadlock in this server nearly always is, and its cure.
const std::string unlock_advice =
    "a mutex lock()ed by hand whose unlock() an early return skips (when the reply fails "
    "because the client hung up, say) stays locked for ever, and every later handler waits for "
    "it: take the lock with std::scoped_lock, which unlocks on every way out (lesson: locks)";

// The threads of this process (their Linux ids).
std::vector<long> all_threads() {
  std::vector<long> tids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec))
    tids.push_back(std::stol(entry.path().filename().string()));
  return tids;
}

// The value a futex wait of thread `tid` expects to find (the call's third
// argument), if the thread sleeps in a futex wait now.
std::optional<long> futex_value_awaited(long tid) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/syscall");
  long number = -1;
  std::string address, operation, value;
  if (!(file >> number >> address >> operation >> value) || number != SYS_futex)
    return std::nullopt;
  return static_cast<long>(std::stoull(value, nullptr, 16));
}

}  // namespace

server::server(int clients) : run_(std::make_shared<run_state>()) {
  gate::reset();
  run_->server = make_counting_server();
  run_->listener = std::make_shared<lab::net::listener>(lab::net::listen_loopback());
  auto started = std::make_shared<std::promise<void>>();
  auto ready = started->get_future();
  std::thread([run = run_, started, clients] {
    const long tid = gettid();
    run->tid.store(tid, std::memory_order_relaxed);
    gate::set_serve_thread(tid);
    started->set_value();
    try {
      counting_serve(*run->server, run->listener->fd.get(), clients);
    } catch (...) {
      run->error = std::current_exception();
    }
    run->ends_at_return = gate::ends();
    run->returned.store(true, std::memory_order_release);
  }).detach();  // waited for through `returned`, by progress (wait_for_return)
  ready.get();
}

std::size_t server::connect() {
  client c;
  c.fd = lab::net::connect_loopback(run_->listener->port);
  lab::net::set_nonblocking(c.fd.get());
  clients_.push_back(std::move(c));
  return clients_.size() - 1;
}

void server::hang_up(std::size_t i) {
  client& c = clients_[i];
  // A zero linger time makes close() send a reset instead of the usual
  // goodbye: the server's next send to this client fails at once.
  const linger reset_on_close{.l_onoff = 1, .l_linger = 0};
  setsockopt(c.fd.get(), SOL_SOCKET, SO_LINGER, &reset_on_close, sizeof reset_on_close);
  c.fd.reset();
  c.hung_up = true;
}

void server::read_replies() {
  for (auto& c : clients_) {
    if (c.closed || c.hung_up) continue;
    char chunk[256];
    for (;;) {
      const auto got = lab::net::recv_some(c.fd.get(), chunk);
      if (got.status == lab::net::io_status::ok) {
        c.got.append(chunk, got.bytes);
        continue;
      }
      if (got.status != lab::net::io_status::would_block) c.closed = true;
      break;
    }
  }
}

std::uint64_t server::received() const {
  std::uint64_t bytes = 0;
  for (const auto& c : clients_) bytes += c.got.size() + (c.closed ? 1 : 0);
  return bytes;
}

bool server::answered(std::size_t i) {
  read_replies();
  const client& c = clients_[i];
  return c.hung_up || c.closed || c.got.find('\n') != std::string::npos;
}

std::optional<long> server::number(std::size_t i) const {
  const std::string& text = clients_[i].got;
  if (text.size() < 2 || text[0] != '<') return std::nullopt;
  try {
    std::size_t used = 0;
    const long n = std::stol(text.substr(1), &used);
    if (text.size() <= used + 1 || text[used + 1] != ',') return std::nullopt;
    return n;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

int server::asleep_on_mutex() const {
  const std::mutex& m = served_mutex(*run_->server);
  int asleep = 0;
  for (long tid : all_threads()) asleep += lab::check::waits_for_mutex(tid, m) ? 1 : 0;
  return asleep;
}

bool server::serve_thread_joins() const {
  const auto awaited = futex_value_awaited(run_->tid.load(std::memory_order_relaxed));
  if (!awaited) return false;
  for (const auto& v : gate::visits())
    if (v.tid == *awaited && !v.on_serve_thread) return true;
  return false;
}

bool server::wait_or_stall(const std::function<bool()>& done) {
  const auto report = lab::check::wait_for_progress(
      [&] {
        read_replies();
        return done();
      },
      [&] { return gate::progress() + received() + (returned() ? 1 : 0); });
  if (report.result == lab::check::wait_result::too_busy) {
    abandoned_ = true;
    lab::check::undecided(report.describe());
    gate::set_shut(false);
    throw left_behind{};
  }
  return report.result == lab::check::wait_result::done;
}

void server::wait_until(const std::function<bool()>& done, const std::string& what) {
  const auto report = lab::check::wait_for_progress(
      [&] {
        read_replies();
        return done();
      },
      [&] { return gate::progress() + received() + (returned() ? 1 : 0); });
  if (report.result == lab::check::wait_result::done) return;
  abandoned_ = true;
  if (report.result == lab::check::wait_result::too_busy) {
    lab::check::undecided(report.describe());
  } else {
    const int asleep = asleep_on_mutex();
    if (asleep > 0)
      FAIL_CHECK("deadlock: ", what, ", the server got stuck with ", asleep,
                 std::string(asleep == 1 ? " thread" : " threads"),
                 " asleep waiting for its mutex, which nobody released (", report.describe(),
                 "): ", unlock_advice);
    else
      FAIL_CHECK(what, ", the server got stuck (", report.describe(),
                 "): is a handler waiting for something that never comes, or serve() for more "
                 "clients than it was asked to serve?");
  }
  gate::set_shut(false);  // let whatever can still move go
  throw left_behind{};
}

void server::wait_for_return(const std::string& what) {
  wait_until([this] { return returned(); }, what);
  if (run_->error) std::rethrow_exception(run_->error);
}

server::~server() {
  gate::set_shut(false);
  if (abandoned_ || !returned()) return;  // its threads may still use it: leaked on purpose
  destroy(run_->server);
}

}  // namespace server_run
