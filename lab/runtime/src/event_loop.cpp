#include "lab/event_loop.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "lab/net/error.hpp"

namespace lab {

namespace {

// The loop running on this thread (run() sets it), for the awaitables.
thread_local event_loop* running_loop = nullptr;

std::chrono::milliseconds whole_ms_at_least(event_loop::clock::duration d) {
  // Rounded up: waiting 0 ms for a deadline 0.4 ms away would spin.
  return std::chrono::ceil<std::chrono::milliseconds>(d);
}

}  // namespace

void detail::task_state::deliver_cancellation() {
  if (cancel_requested && !cancel_delivered) {
    cancel_delivered = true;
    throw cancelled{};
  }
}

std::string detail::timeout_message(const std::string& name, event_loop::clock::duration limit) {
  const double ms = std::chrono::duration<double, std::milli>(limit).count();
  return name + " did not finish within " + std::to_string(static_cast<long long>(std::llround(ms))) +
         " ms and was cancelled";
}

event_loop::event_loop(loop_options options) : options_(std::move(options)) {}

event_loop::~event_loop() {
  // Tasks that never ended: free their frames (and, through each root
  // frame, the tasks it was awaiting). Copy first: nothing may change
  // live_ while we walk it, and the states must outlive their frames.
  std::vector<std::shared_ptr<detail::task_state>> unfinished;
  for (detail::task_state* task : live_) unfinished.push_back(task->self);
  for (auto& state : unfinished) {
    if (state->root) std::exchange(state->root, {}).destroy();
    state->self.reset();  // no longer alive on its own
  }
}

event_loop& event_loop::current() {
  if (running_loop == nullptr)
    throw std::logic_error("no event loop is running on this thread (await only inside a task)");
  return *running_loop;
}

event_loop::clock::time_point event_loop::now() const {
  return options_.virtual_clock ? virtual_now_ : clock::now();
}

void event_loop::start_task(std::shared_ptr<detail::task_state> state, detail::root_coroutine root) {
  state->root = root.frame;
  state->number = next_sequence_++;
  state->waiting_frame = root.frame;  // "waiting" to start: cancel() may wake it like any wait
  state->in_wait = true;
  state->self = state;
  live_.insert(state.get());
  ready_.push_back({state, state->wait_id, {}});
}

std::uint64_t event_loop::park(std::coroutine_handle<> frame) {
  detail::task_state* task = running_;
  task->waiting_frame = frame;
  task->in_wait = true;
  return ++task->wait_id;
}

void event_loop::wake(detail::task_state* task, std::uint64_t wait_id) {
  if (!task->in_wait || task->wait_id != wait_id) return;  // that wait is over already
  ready_.push_back({task->self, wait_id, {}});
}

void event_loop::add_timer(clock::time_point deadline, detail::task_state* task,
                           std::uint64_t wait_id) {
  timers_.push({deadline, next_sequence_++, task->self, wait_id, {}});
}

void event_loop::wait_fd(int fd, bool write, detail::task_state* task, std::uint64_t wait_id) {
  fd_waiters& waiters = fds_[fd];
  ready_item& slot = write ? waiters.writer : waiters.reader;
  bool& taken = write ? waiters.has_writer : waiters.has_reader;
  if (taken)
    throw std::logic_error("two waits for the same descriptor " + std::to_string(fd) +
                           (write ? " to be writable" : " to be readable"));
  slot = {task->self, wait_id, {}};
  taken = true;
  task->waiting_fd = fd;
  task->waiting_to_write = write;
  watch_or_undo(fd, write);
}

// update_fd for a wait just added; if epoll refuses the descriptor (a
// regular file, a closed one), the wait is taken back before the error
// goes up, so that the loop is not left waiting for it.
void event_loop::watch_or_undo(int fd, bool write) {
  try {
    update_fd(fd);
  } catch (...) {
    drop_fd_wait(fd, write);
    throw;
  }
}

void event_loop::cancel_task(detail::task_state* task) {
  if (task->done) return;
  task->cancel_requested = true;
  if (task->in_wait) wake(task, task->wait_id);
}

void event_loop::task_finished(detail::task_state* task) {
  task->done = true;
  task->root = {};  // the root frame frees itself as it ends
  for (const auto& [joiner, wait_id] : std::exchange(task->joiners, {})) wake(joiner, wait_id);
  live_.erase(task);
  task->self.reset();  // the root coroutine still holds the state until its frame is gone
}

void event_loop::call_soon(std::function<void()> callback) {
  ready_.push_back({nullptr, 0, std::move(callback)});
}

void event_loop::call_soon_self_timed(std::function<void()> callback) {
  ready_.push_back({nullptr, 0, std::move(callback), false});
}

event_loop::timer_id event_loop::call_later(clock::duration delay, std::function<void()> callback) {
  const timer_id id = next_sequence_++;
  timers_.push({now() + delay, id, nullptr, 0, std::move(callback)});
  pending_callbacks_.insert(id);
  return id;
}

void event_loop::cancel_timer(timer_id id) { pending_callbacks_.erase(id); }

void event_loop::on_readable(int fd, std::function<void()> callback) {
  add_fd_callback(fd, false, std::move(callback));
}

void event_loop::on_writable(int fd, std::function<void()> callback) {
  add_fd_callback(fd, true, std::move(callback));
}

void event_loop::add_fd_callback(int fd, bool write, std::function<void()> callback) {
  fd_waiters& waiters = fds_[fd];
  bool& taken = write ? waiters.has_writer : waiters.has_reader;
  if (taken) throw std::logic_error("two waits for descriptor " + std::to_string(fd));
  (write ? waiters.writer : waiters.reader) = {nullptr, 0, std::move(callback)};
  taken = true;
  watch_or_undo(fd, write);
}

void event_loop::forget_fd(int fd, bool write) { drop_fd_wait(fd, write); }

// Makes epoll watch `fd` for exactly what its waiters wait for.
void event_loop::update_fd(int fd) {
  const auto found = fds_.find(fd);
  if (found == fds_.end()) return;
  fd_waiters& waiters = found->second;
  const std::uint32_t wanted =
      (waiters.has_reader ? EPOLLIN : 0u) | (waiters.has_writer ? EPOLLOUT : 0u);
  if (wanted == 0) {
    // The descriptor may be closed already, which removed it from epoll.
    try {
      if (waiters.registered != 0) poller_.remove(fd);
    } catch (const net::error&) {
    }
    fds_.erase(found);
    return;
  }
  if (waiters.registered == wanted) return;
  if (waiters.registered == 0) {
    poller_.add(fd, wanted);
  } else {
    try {
      poller_.modify(fd, wanted);
    } catch (const net::error&) {
      poller_.add(fd, wanted);  // closed and reopened under the same number meanwhile
    }
  }
  waiters.registered = wanted;
}

void event_loop::drop_fd_wait(int fd, bool write) {
  const auto found = fds_.find(fd);
  if (found == fds_.end()) return;
  (write ? found->second.has_writer : found->second.has_reader) = false;
  update_fd(fd);
}

// The watchdog's clock: the kernel's coarse monotonic clock, a few ns to
// read (against tens for the precise one) and precise to a few ms, plenty
// for a warning at 100 ms. Read twice per task step, it must be cheap.
static event_loop::clock::duration coarse_now() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

void event_loop::run_item(ready_item& item) {
  const auto started = coarse_now();
  if (item.task) {
    detail::task_state& task = *item.task;
    if (task.done || !task.in_wait || task.wait_id != item.wait_id) return;  // stale
    task.in_wait = false;
    ++task.wait_id;  // every other wake-up of that wait is stale now
    if (task.waiting_fd >= 0) {  // woken early (cancel): stop watching its descriptor
      const auto found = fds_.find(task.waiting_fd);
      if (found != fds_.end()) {
        const ready_item& slot = task.waiting_to_write ? found->second.writer : found->second.reader;
        if (slot.task.get() == &task) drop_fd_wait(task.waiting_fd, task.waiting_to_write);
      }
      task.waiting_fd = -1;
    }
    running_ = &task;
    ++stats_.resumes;
    task.waiting_frame.resume();
    running_ = nullptr;
  } else {
    ++stats_.resumes;
    item.callback();
  }
  const auto took = coarse_now() - started;
  if (item.timed && took > options_.stall_warning) {
    const std::string who = item.task ? "task '" + item.task->name + "'" : "a callback";
    const stall s{who, std::chrono::duration_cast<std::chrono::milliseconds>(took), !item.task};
    stats_.stalls.push_back(s);
    if (options_.on_stall)
      options_.on_stall(s);
    else
      std::fprintf(stderr,
                   "event loop: %s kept the thread for about %lld ms without waiting (a blocking call "
                   "or a long computation: every other task waited)\n",
                   s.task.c_str(), static_cast<long long>(s.duration.count()));
  }
}

void event_loop::fire_due_timers() {
  while (!timers_.empty() && timers_.top().deadline <= now()) {
    timer due = timers_.top();
    timers_.pop();
    if (due.task) {
      wake(due.task.get(), due.wait_id);
    } else {
      // Still pending: not cancelled (and, being fired now, pending no more).
      if (pending_callbacks_.erase(due.sequence) != 0) ready_.push_back({nullptr, 0, std::move(due.callback)});
    }
  }
}

std::string event_loop::stuck_names() const {
  std::vector<const detail::task_state*> stuck;
  for (const detail::task_state* task : live_) stuck.push_back(task);
  std::sort(stuck.begin(), stuck.end(),
            [](const auto* a, const auto* b) { return a->number < b->number; });
  std::string names;
  for (const auto* task : stuck) names += (names.empty() ? "'" : ", '") + task->name + "'";
  return names;
}

void event_loop::run() { run_until(nullptr); }

void event_loop::run_until(const std::function<bool()>& done) {
  event_loop* const outer = std::exchange(running_loop, this);
  struct restore {
    event_loop* outer;
    ~restore() { running_loop = outer; }
  } restore_on_exit{outer};

  for (;; ++stats_.rounds) {
    // One round: everything ready now, in order. What becomes ready during
    // the round waits for the next one, so a task that yields cannot starve
    // the others.
    for (std::size_t n = ready_.size(); n > 0 && !ready_.empty(); --n) {
      ready_item item = std::move(ready_.front());
      ready_.pop_front();
      run_item(item);
    }

    // Drop timers nobody waits for any more from the top of the heap.
    while (!timers_.empty()) {
      const timer& top = timers_.top();
      const bool stale = top.task ? (top.task->done || !top.task->in_wait ||
                                     top.task->wait_id != top.wait_id)
                                  : !pending_callbacks_.contains(top.sequence);  // cancelled
      if (!stale) break;
      timers_.pop();
    }
    if (done && done()) return;
    if (ready_.empty() && live_.empty() && fds_.empty() && pending_callbacks_.empty()) return;
    if (ready_.empty() && timers_.empty() && fds_.empty())
      throw loop_stuck("every task waits for another and nothing can wake them: " + stuck_names());

    // Wait for the next timer or descriptor; not at all if a task is ready.
    std::chrono::milliseconds wait = net::wait_forever;
    if (!ready_.empty()) {
      wait = std::chrono::milliseconds::zero();
    } else if (!timers_.empty()) {
      const auto until = timers_.top().deadline - now();
      wait = until <= clock::duration::zero() ? std::chrono::milliseconds::zero()
                                              : whole_ms_at_least(until);
      if (options_.virtual_clock) {
        wait = std::chrono::milliseconds::zero();  // jump instead of waiting
        if (until > clock::duration::zero()) virtual_now_ = timers_.top().deadline;
      }
    }
    if (!fds_.empty() || wait != std::chrono::milliseconds::zero()) {
      if (wait != std::chrono::milliseconds::zero()) ++stats_.waits;
      for (const epoll_event& event : poller_.wait(wait)) {
        const auto found = fds_.find(event.data.fd);
        if (found == fds_.end()) continue;
        fd_waiters& waiters = found->second;
        const bool trouble = (event.events & (EPOLLERR | EPOLLHUP)) != 0;
        // An error or a hang-up wakes both sides: their next call reports it.
        const auto take = [&](ready_item& slot, bool& taken, std::uint32_t ready_when) {
          if (!taken || ((event.events & ready_when) == 0 && !trouble)) return;
          ready_item woken = std::move(slot);
          taken = false;
          if (woken.task)
            wake(woken.task.get(), woken.wait_id);
          else
            ready_.push_back(std::move(woken));
        };
        take(waiters.reader, waiters.has_reader, EPOLLIN);
        take(waiters.writer, waiters.has_writer, EPOLLOUT);
        update_fd(event.data.fd);
      }
    }
    fire_due_timers();
  }
}

// ---- awaitables ----------------------------------------------------------

void detail::wait_base::park(std::coroutine_handle<> frame) {
  loop = &event_loop::current();
  task = loop->running_task();
  if (task == nullptr) throw std::logic_error("a lab wait outside a task (in a callback?)");
  wait_id = loop->park(frame);
}

void yield_awaiter::await_suspend(std::coroutine_handle<> frame) {
  park(frame);
  loop->wake(task, wait_id);  // ready again at once, behind everyone ready now
}

void sleep_awaiter::await_suspend(std::coroutine_handle<> frame) {
  park(frame);
  loop->add_timer(loop->now() + delay, task, wait_id);
}

void fd_awaiter::await_suspend(std::coroutine_handle<> frame) {
  park(frame);
  try {
    loop->wait_fd(fd, write, task, wait_id);
  } catch (...) {
    // Not suspended after all: the error comes out of the co_await.
    task->in_wait = false;
    task->waiting_fd = -1;
    throw;
  }
}

}  // namespace lab
