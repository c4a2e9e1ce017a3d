#include "lab/net/load_generator.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <thread>

#include "lab/net/epoll_set.hpp"
#include "lab/net/error.hpp"
#include "lab/net/socket.hpp"

namespace lab::net {
namespace {

using clock_type = std::chrono::steady_clock;

// Descriptors a run needs beyond its connections (epoll sets, std streams...).
constexpr rlim_t spare_files = 64;

// Byte i of every echo request: a pattern the answer is checked against.
char request_byte(std::size_t i) {
  return static_cast<char>('a' + i % 26);
}

// One connection's request in flight.
struct slot {
  unique_fd fd;
  std::size_t sent = 0;      // echo: bytes of the request sent so far
  std::size_t received = 0;  // bytes of the answer so far
  std::string answer;        // counting: the text so far
  clock_type::time_point started;
  bool watching_out = false;  // registered for EPOLLOUT too (a request not all sent)
};

// What the workers share with the thread that prints progress: relaxed
// counters, read only for the progress line (the final figures are taken
// after join(), which orders everything).
struct shared_counts {
  std::atomic<std::uint64_t> round_trips{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<bool> connected{false};  // at least one connection was made
};

// One thread's share of the connections, on an epoll loop of its own.
// Everything here is touched by that thread only, until it is joined.
class worker {
 public:
  worker(const load_plan& plan, int connections, clock_type::time_point deadline,
         shared_counts& counts)
      : plan_(plan), connections_(connections), deadline_(deadline), counts_(counts) {
    request_.resize(plan.message_size);
    for (std::size_t i = 0; i < request_.size(); ++i) request_[i] = request_byte(i);
    buffer_.resize(std::max<std::size_t>(plan.message_size, 4096));
  }

  void run() {
    for (int i = 0; i < connections_; ++i) open_slot();
    while (!slots_.empty()) {
      const auto left = deadline_ - clock_type::now();
      if (left <= clock_type::duration::zero()) break;  // requests in flight are not counted
      const auto wait = std::min(std::chrono::duration_cast<std::chrono::milliseconds>(left),
                                 std::chrono::milliseconds(100)) +
                        std::chrono::milliseconds(1);
      for (const epoll_event& ready : loop_.wait(wait)) on_ready(ready.data.fd, ready.events);
    }
  }

  std::vector<float> latencies_us;
  std::string first_error;

 private:
  void fail(const std::string& what) {
    counts_.errors.fetch_add(1, std::memory_order_relaxed);
    if (first_error.empty()) first_error = what;
  }

  // Connects a new slot and starts its first request. A slot that cannot
  // connect is given up (counted as an error), so a server that refuses
  // everybody ends the run at once instead of being hammered.
  void open_slot() {
    slot s;
    s.started = clock_type::now();
    try {
      s.fd = connect_loopback(plan_.port);
      set_nonblocking(s.fd.get());
      set_no_delay(s.fd.get());
      counts_.connected.store(true, std::memory_order_relaxed);
    } catch (const error& e) {
      fail(e.what());
      return;
    }
    const int fd = s.fd.get();
    loop_.add(fd, EPOLLIN);
    slots_[fd] = std::move(s);
    if (plan_.mode == load_mode::echo) start_request(slots_[fd]);
  }

  void close_slot(int fd) { slots_.erase(fd); }  // closing takes it off the epoll set

  void start_request(slot& s) {
    s.sent = s.received = 0;
    s.started = clock_type::now();
    send_more(s);
  }

  // Sends what the kernel takes of the request; asks for EPOLLOUT while some is left.
  void send_more(slot& s) {
    const io_result sent = send_some(s.fd.get(), std::span(request_).subspan(s.sent));
    if (sent.status == io_status::ok) s.sent += sent.bytes;
    const bool more = s.sent < request_.size();
    if (more != s.watching_out) {  // epoll_ctl only when the interest changes
      loop_.modify(s.fd.get(), EPOLLIN | (more ? EPOLLOUT : 0u));
      s.watching_out = more;
    }
  }

  void record(const slot& s) {
    latencies_us.push_back(
        std::chrono::duration<float, std::micro>(clock_type::now() - s.started).count());
    counts_.round_trips.fetch_add(1, std::memory_order_relaxed);
  }

  void on_ready(int fd, std::uint32_t events) {
    const auto found = slots_.find(fd);
    if (found == slots_.end()) return;
    slot& s = found->second;
    if (plan_.mode == load_mode::echo && (events & EPOLLOUT) != 0 && s.sent < request_.size())
      send_more(s);
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0) return;
    const io_result got = recv_some(fd, buffer_);
    if (got.status == io_status::would_block) return;
    if (plan_.mode == load_mode::echo)
      on_echo(fd, s, got);
    else
      on_count(fd, s, got);
  }

  void on_echo(int fd, slot& s, const io_result& got) {
    if (got.status != io_status::ok) {
      fail(got.status == io_status::reset ? "the server reset a connection"
                                          : "the server closed a connection before answering");
      close_slot(fd);
      open_slot();
      return;
    }
    for (std::size_t i = 0; i < got.bytes; ++i)
      if (s.received + i >= request_.size() || buffer_[i] != request_byte(s.received + i)) {
        fail("an answer was not the request echoed back");
        close_slot(fd);
        open_slot();
        return;
      }
    s.received += got.bytes;
    if (s.received < request_.size()) return;  // a partial answer: wait for the rest
    record(s);
    start_request(s);
  }

  void on_count(int fd, slot& s, const io_result& got) {
    if (got.status == io_status::ok) {
      s.answer.append(buffer_.data(), got.bytes);
      if (s.answer.size() < 256) return;  // the server hangs up after its line
    }
    static const std::regex shape(R"(<\d+, took [0-9.]+ ms>\n?)");
    if (got.status != io_status::reset && std::regex_match(s.answer, shape))
      record(s);
    else
      fail("an answer was not <N, took X ms>: \"" + s.answer.substr(0, 60) + "\"");
    close_slot(fd);
    open_slot();
  }

  const load_plan& plan_;
  const int connections_;
  const clock_type::time_point deadline_;
  shared_counts& counts_;
  std::string request_;
  std::vector<char> buffer_;
  epoll_set loop_;
  std::map<int, slot> slots_;  // by descriptor
};

void check_bounds(const load_plan& plan) {
  if (plan.connections < 1 || plan.connections > max_load_connections)
    throw std::invalid_argument("connections should be 1 to " +
                                std::to_string(max_load_connections));
  const double seconds = std::chrono::duration<double>(plan.duration).count();
  if (seconds <= 0 || seconds > max_load_seconds)
    throw std::invalid_argument("the duration should be above 0 and at most " +
                                std::to_string(static_cast<int>(max_load_seconds)) + " seconds");
  if (plan.message_size < 1 || plan.message_size > max_message_size)
    throw std::invalid_argument("the message size should be 1 to " +
                                std::to_string(max_message_size) + " bytes");
}

// Raises this process's open-files limit (the soft one, up to the hard one)
// to what `connections` need, or says why it cannot.
void make_room_for(int connections) {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) throw_errno("getrlimit");
  const rlim_t needed = static_cast<rlim_t>(connections) + spare_files;
  if (files.rlim_cur != RLIM_INFINITY && files.rlim_cur >= needed) return;
  if (files.rlim_max != RLIM_INFINITY && files.rlim_max < needed)
    throw std::invalid_argument(std::to_string(connections) + " connections need " +
                                std::to_string(needed) + " open files; this process may have " +
                                std::to_string(files.rlim_max) + " (see ulimit -Hn)");
  files.rlim_cur = needed;
  if (setrlimit(RLIMIT_NOFILE, &files) != 0) throw_errno("setrlimit RLIMIT_NOFILE");
}

}  // namespace

double load_report::percentile_us(double fraction) const {
  if (latencies_us.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(latencies_us.size())));
  return latencies_us[std::clamp<std::size_t>(rank, 1, latencies_us.size()) - 1];
}

load_report run_load(const load_plan& plan) {
  check_bounds(plan);
  make_room_for(plan.connections);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = std::min(plan.threads > 0 ? plan.threads : cores, plan.connections);
  const auto start = clock_type::now();
  const auto deadline = start + plan.duration;
  shared_counts counts;
  std::vector<std::unique_ptr<worker>> workers;
  for (int t = 0; t < threads; ++t) {
    const int share = plan.connections / threads + (t < plan.connections % threads ? 1 : 0);
    workers.push_back(std::make_unique<worker>(plan, share, deadline, counts));
  }
  std::atomic<int> running{threads};
  std::vector<std::thread> pool;
  for (auto& w : workers)
    pool.emplace_back([&w, &running] {
      w->run();
      running.fetch_sub(1, std::memory_order_release);
    });
  // Progress about once a second, until the deadline or every worker gave up.
  auto next_report = start + std::chrono::seconds(1);
  while (running.load(std::memory_order_acquire) > 0 && clock_type::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (plan.on_progress && clock_type::now() >= next_report) {
      plan.on_progress({std::chrono::duration<double>(clock_type::now() - start).count(),
                        counts.round_trips.load(std::memory_order_relaxed),
                        counts.errors.load(std::memory_order_relaxed)});
      next_report += std::chrono::seconds(1);
    }
  }
  for (auto& thread : pool) thread.join();
  load_report report;
  report.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  report.threads = threads;
  for (auto& w : workers) {
    report.latencies_us.insert(report.latencies_us.end(), w->latencies_us.begin(),
                               w->latencies_us.end());
    if (report.first_error.empty()) report.first_error = w->first_error;
  }
  report.round_trips = report.latencies_us.size();
  report.errors = counts.errors.load();
  std::sort(report.latencies_us.begin(), report.latencies_us.end());
  if (!counts.connected.load()) throw std::runtime_error(report.first_error);
  return report;
}

}  // namespace lab::net
