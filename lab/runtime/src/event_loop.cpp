#include "lab/event_loop.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>

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

void detail::task_record::deliver_cancellation() {
  if (cancel_requested && !cancel_delivered) {
    cancel_delivered = true;
    throw cancelled{};
  }
}

void detail::finish_spawned(task_record& record) {
  record.loop->task_finished(record);
}

std::string detail::timeout_message(const std::string& name, event_loop::clock::duration limit) {
  const double ms = std::chrono::duration<double, std::milli>(limit).count();
  return name + " did not finish within " + std::to_string(static_cast<long long>(std::llround(ms))) +
         " ms and was cancelled";
}

event_loop::event_loop(loop_options options) : options_(std::move(options)) {}

event_loop::~event_loop() {
  // Tasks that never ended: destroy their frames (and, through each, the
  // tasks it was awaiting as sub-calls). Their records stay while handles
  // hold them; with loop = nullptr, a handle's cancel() does nothing. A
  // frame's destructors may still call this loop (timeout's clean-up
  // cancels its timer): it is whole until the end of this body.
  while (first_live_ != nullptr) {
    const detail::task_ref task(first_live_);  // keeps the record through the frame's destruction
    unlink_live(*task);
    task->loop = nullptr;
    task->frame().destroy();
  }
  // The members go next: the references in ready_, the timers and fds_
  // with them.
}

event_loop& event_loop::current() {
  if (running_loop == nullptr)
    throw std::logic_error("no event loop is running on this thread (await only inside a task)");
  return *running_loop;
}

event_loop::clock::time_point event_loop::now() const {
  return options_.virtual_clock ? virtual_now_ : clock::now();
}

void event_loop::start_task(detail::task_record& task, std::string name) {
  task.name = std::move(name);
  task.loop = this;
  link_live(task);
  // "Waiting" to start (waiting_frame is its own frame already): cancel()
  // may wake it like any wait.
  task.in_wait = true;
  task.wait_id = ++next_sequence_;
  ready_.push_back({detail::task_ref(&task), task.wait_id, {}});
}

// Wait ids come from the loop's counter of sequences: never reused, so a
// wake-up for an older wait can never match a newer one.
std::uint64_t event_loop::park(std::coroutine_handle<> frame) {
  detail::task_record* task = running_;
  task->waiting_frame = frame;
  task->in_wait = true;
  task->wait_id = ++next_sequence_;
  return task->wait_id;
}

void event_loop::wake(detail::task_record* task, std::uint64_t wait_id) {
  if (!task->in_wait || task->wait_id != wait_id) return;  // that wait is over already
  ready_.push_back({detail::task_ref(task), wait_id, {}});
}

void event_loop::add_timer(clock::time_point deadline, detail::task_record* task) {
  task_timers_.push({deadline, task->wait_id, detail::task_ref(task)});
}

void event_loop::wait_fd(int fd, bool write, detail::task_record* task, std::uint64_t wait_id) {
  fd_waiters& waiters = fds_[fd];
  ready_item& slot = write ? waiters.writer : waiters.reader;
  bool& taken = write ? waiters.has_writer : waiters.has_reader;
  if (taken)
    throw std::logic_error("two waits for the same descriptor " + std::to_string(fd) +
                           (write ? " to be writable" : " to be readable"));
  slot = {detail::task_ref(task), wait_id, {}};
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

void event_loop::cancel_task(detail::task_record* task) {
  if (task->done) return;
  task->cancel_requested = true;
  if (task->in_wait) wake(task, task->wait_id);
}

// Precondition: `task` has just ended (its frame is at its final suspend;
// run_item frees it once the step is over).
void event_loop::task_finished(detail::task_record& task) {
  for (detail::join_waiter* joiner = std::exchange(task.joiners, nullptr); joiner != nullptr;
       joiner = std::exchange(joiner->next, nullptr))
    wake(joiner->waiter, joiner->wait_id);
  unlink_live(task);
}

void event_loop::link_live(detail::task_record& task) {
  task.previous_live = last_live_;
  task.next_live = nullptr;
  (last_live_ != nullptr ? last_live_->next_live : first_live_) = &task;
  last_live_ = &task;
}

void event_loop::unlink_live(detail::task_record& task) {
  (task.previous_live != nullptr ? task.previous_live->next_live : first_live_) = task.next_live;
  (task.next_live != nullptr ? task.next_live->previous_live : last_live_) = task.previous_live;
  task.previous_live = task.next_live = nullptr;
}

void event_loop::call_soon(std::function<void()> callback) {
  ready_.push_back({{}, 0, std::move(callback)});
}

void event_loop::call_soon_self_timed(std::function<void()> callback) {
  ready_.push_back({{}, 0, std::move(callback), false});
}

event_loop::timer_id event_loop::call_later(clock::duration delay, std::function<void()> callback) {
  const timer_id id = ++next_sequence_;
  callback_timers_.push({now() + delay, id, std::move(callback)});
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
  (write ? waiters.writer : waiters.reader) = {{}, 0, std::move(callback)};
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
  (write ? found->second.writer : found->second.reader) = {};  // lets go of its task or callback
  update_fd(fd);
}

event_loop::clock::duration event_loop::coarse_now() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

void event_loop::run_item(ready_item& item) {
  const auto started = coarse_now();
  if (item.task) {
    // The item's reference keeps the record while the task runs, even if
    // it ends and its frame goes.
    detail::task_record& task = *item.task;
    if (!task.in_wait || task.wait_id != item.wait_id) return;  // stale
    task.in_wait = false;  // every other wake-up of that wait is stale now
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
    // It ended in this step: its locals and parameters go now (the record
    // stays while this item or a handle holds it).
    if (task.done) task.frame().destroy();
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

// Pops timers nobody waits for any more (a task's whose wait is over, a
// cancelled callback's) from the tops of the heaps.
void event_loop::drop_stale_timers() {
  while (!task_timers_.empty()) {
    const task_timer& top = task_timers_.top();
    if (top.task->in_wait && top.task->wait_id == top.wait_id) break;
    task_timers_.pop();
  }
  while (!callback_timers_.empty() && !pending_callbacks_.contains(callback_timers_.top().sequence))
    callback_timers_.pop();
}

std::optional<event_loop::clock::time_point> event_loop::next_deadline() const {
  if (task_timers_.empty() && callback_timers_.empty()) return std::nullopt;
  if (task_timers_.empty()) return callback_timers_.top().deadline;
  if (callback_timers_.empty()) return task_timers_.top().deadline;
  return std::min(task_timers_.top().deadline, callback_timers_.top().deadline);
}

// Fires what is due from both heaps, in (deadline, sequence) order.
void event_loop::fire_due_timers() {
  while (!task_timers_.empty() || !callback_timers_.empty()) {
    const auto time = now();
    const bool task_due = !task_timers_.empty() && task_timers_.top().deadline <= time;
    const bool callback_due = !callback_timers_.empty() && callback_timers_.top().deadline <= time;
    if (!task_due && !callback_due) return;
    // Both due: the earlier deadline first; equal deadlines by sequence.
    const bool task_first =
        task_due &&
        (!callback_due ||
         std::pair(task_timers_.top().deadline, task_timers_.top().wait_id) <
             std::pair(callback_timers_.top().deadline, callback_timers_.top().sequence));
    if (task_first) {
      const task_timer& due = task_timers_.top();
      wake(due.task.get(), due.wait_id);
      task_timers_.pop();
    } else {
      callback_timer due = callback_timers_.top();
      callback_timers_.pop();
      // Still pending: not cancelled (and, being fired now, pending no more).
      if (pending_callbacks_.erase(due.sequence) != 0)
        ready_.push_back({{}, 0, std::move(due.callback)});
    }
  }
}

// The unfinished tasks' names, in the order they were spawned.
std::string event_loop::stuck_names() const {
  std::string names;
  for (const detail::task_record* task = first_live_; task != nullptr; task = task->next_live)
    names += (names.empty() ? "'" : ", '") + task->name + "'";
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

    drop_stale_timers();
    if (done && done()) return;
    const auto deadline = next_deadline();
    if (ready_.empty() && first_live_ == nullptr && fds_.empty() && pending_callbacks_.empty())
      return;
    if (ready_.empty() && !deadline && fds_.empty())
      throw loop_stuck("every task waits for another and nothing can wake them: " + stuck_names());

    // Wait for the next timer or descriptor; not at all if a task is ready.
    std::chrono::milliseconds wait = net::wait_forever;
    if (!ready_.empty()) {
      wait = std::chrono::milliseconds::zero();
    } else if (deadline) {
      const auto until = *deadline - now();
      wait = until <= clock::duration::zero() ? std::chrono::milliseconds::zero()
                                              : whole_ms_at_least(until);
      if (options_.virtual_clock) {
        wait = std::chrono::milliseconds::zero();  // jump instead of waiting
        if (until > clock::duration::zero()) virtual_now_ = *deadline;
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

event_loop& detail::wait_base::park(std::coroutine_handle<> frame) {
  event_loop& loop = event_loop::current();
  task = loop.running_task();
  if (task == nullptr) throw std::logic_error("a lab wait outside a task (in a callback?)");
  loop.park(frame);
  return loop;
}

void yield_awaiter::await_suspend(std::coroutine_handle<> frame) {
  event_loop& loop = park(frame);
  loop.wake(task, task->wait_id);  // ready again at once, behind everyone ready now
}

void sleep_awaiter::await_suspend(std::coroutine_handle<> frame) {
  event_loop& loop = park(frame);
  loop.add_timer(loop.now() + delay, task);
}

void fd_awaiter::await_suspend(std::coroutine_handle<> frame) {
  event_loop& loop = park(frame);
  try {
    loop.wait_fd(fd, write, task, task->wait_id);
  } catch (...) {
    // Not suspended after all: the error comes out of the co_await.
    task->in_wait = false;
    task->waiting_fd = -1;
    throw;
  }
}

// ---- join_handle's awaiter -------------------------------------------------

void detail::join_waiter::join(std::coroutine_handle<> frame) {
  event_loop& loop = event_loop::current();
  waiter = loop.running_task();
  if (waiter == nullptr) throw std::logic_error("co_await on a task's handle outside a task");
  if (joined->loop != &loop)
    throw std::logic_error("co_await on the handle of task '" + joined->name +
                           "', which is not on this loop (or its loop is gone)");
  wait_id = loop.park(frame);
  join_waiter** end = &joined->joiners;
  while (*end != nullptr) end = &(*end)->next;
  *end = this;  // last in line: joiners wake in the order they came
}

void detail::join_waiter::leave() noexcept {
  for (join_waiter** at = &joined->joiners; *at != nullptr; at = &(*at)->next)
    if (*at == this) {
      *at = next;
      next = nullptr;
      return;
    }
}

}  // namespace lab
