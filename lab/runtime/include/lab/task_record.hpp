// lab::detail::task_record: what is known of a task besides its frame (how
// it ended; for a spawned task, what the event loop needs), kept in front of
// the task's coroutine frame, in the same allocation.
//
//   one block from malloc:  [ task_record | the coroutine frame ]
//                             ^ handles and the loop point here
//
// Why one block: a sleeping task should cost little memory (issue 16: 256
// bytes at most). A frame, a separate record and a coroutine to run the
// task would be three allocations, each with malloc's header and rounding.
// task<T>'s promise (lab/task.hpp) allocates the block in its operator new.
//
// Lifetimes: the frame ends with the task (its locals and parameters, a
// socket say, go at once); the record stays while anyone may still ask
// about the task: a join_handle, or an entry in the loop (a ready task, a
// timer, a descriptor wait). The block is freed when both are gone (so a
// destroyed frame's bytes stay allocated while its record is held). The
// record counts its references itself (task_ref): the frame is one, each
// handle and each loop entry another.
//
// What it comes to (g++ 12, x86-64): a 112-byte record and the frame of a
// task asleep in lab::sleep (about 88 bytes) are one 208-byte malloc chunk;
// with its 24-byte timer, coro.switch measures 241 bytes per sleeping task
// (542 before, when the record, a root coroutine, a set node and a 72-byte
// timer each came apart).
//
// Single-threaded: a record is used only on the thread of its task's loop,
// so the count is a plain integer.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace lab {

class event_loop;

namespace detail {

struct join_waiter;  // lab/event_loop.hpp: a task awaiting another's end

struct task_record {
  // ---- every task: the exception it ended with (its value, if any, is in
  // typed_task_record below)
  std::exception_ptr error;

  // ---- spawned tasks only (event_loop::spawn sets these)
  event_loop* loop = nullptr;  // null: never spawned, or its loop is gone
  std::string name;
  // The loop's line of unfinished tasks, in the order they were spawned.
  task_record* previous_live = nullptr;
  task_record* next_live = nullptr;
  // The wait the task is suspended in: which frame to resume (its own, or
  // that of a task it awaits), and an id, new at every wait, so that a
  // wake-up meant for an older wait (the timer of a sleep that cancel()
  // ended early) is recognised and dropped.
  std::coroutine_handle<> waiting_frame;
  std::uint64_t wait_id = 0;
  join_waiter* joiners = nullptr;  // tasks awaiting its end, in the order they came

  // ---- the small fields, together so that they pack into 16 bytes
  std::uint32_t refs = 1;  // references: the frame while it lives, each handle, each loop entry
  int waiting_fd = -1;     // >= 0 while in readable()/writable()
  bool done = false;       // every task: its body returned or threw
  // Every task: true while the task that co_awaits this one is still
  // running it inside its co_await (task<T>::awaiter), before this one
  // waited for anything.
  bool running_inline = false;
  bool in_wait = false;
  bool waiting_to_write = false;
  bool cancel_requested = false;
  bool cancel_delivered = false;

  task_record() = default;
  task_record(const task_record&) = delete;
  task_record& operator=(const task_record&) = delete;
  virtual ~task_record() = default;

  // The task's own frame (right behind the record), until it is destroyed.
  virtual std::coroutine_handle<> frame() const = 0;

  // Throws lab::cancelled when the task was cancelled and has not been told
  // yet. Called when the task comes back from a wait (event_loop.cpp).
  void deliver_cancellation();
};

// Called by a spawned task's frame as it ends (event_loop.cpp): tells its
// loop, which wakes the tasks awaiting its handle.
void finish_spawned(task_record& record);

// Drops one reference; the last one frees the block (the frame is gone by
// then, since it holds a reference while it lives).
inline void release(task_record* record) noexcept {
  if (--record->refs != 0) return;
  void* block = dynamic_cast<void*>(record);  // the most derived object: where the block starts
  record->~task_record();
  ::operator delete(block);
}

// A counted reference to a task's record (an intrusive shared_ptr, without
// atomics: see the top of the file).
class task_ref {
 public:
  task_ref() = default;
  explicit task_ref(task_record* record) noexcept : record_(record) {
    if (record_ != nullptr) ++record_->refs;
  }
  task_ref(const task_ref& other) noexcept : task_ref(other.record_) {}
  task_ref(task_ref&& other) noexcept : record_(std::exchange(other.record_, nullptr)) {}
  task_ref& operator=(task_ref other) noexcept {
    std::swap(record_, other.record_);
    return *this;
  }
  ~task_ref() {
    if (record_ != nullptr) release(record_);
  }
  task_record* get() const noexcept { return record_; }
  task_record* operator->() const noexcept { return record_; }
  task_record& operator*() const noexcept { return *record_; }
  explicit operator bool() const noexcept { return record_ != nullptr; }

 private:
  task_record* record_ = nullptr;
};

// Where a task<T> keeps the value it returned (a task<void>: nothing).
template <typename T>
struct result_slot {
  std::optional<T> value;
};
template <>
struct result_slot<void> {};

// The record of a task<T>: the common part and the value it returned.
template <typename T>
struct typed_task_record final : task_record {
  [[no_unique_address]] result_slot<T> result;

  // The room the record takes in front of the frame: a multiple of the
  // alignment operator new gives, so that the frame gets it too.
  static constexpr std::size_t space() {
    constexpr std::size_t align = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
    return (sizeof(typed_task_record) + align - 1) / align * align;
  }

  // The promise's operator new: the record, then room for the frame.
  static void* allocate(std::size_t frame_size) {
    void* block = ::operator new(space() + frame_size);
    auto* record = ::new (block) typed_task_record;
    void* frame = static_cast<std::byte*>(block) + space();
    // Until its first wait, a task "waits" to start in its own frame; this
    // also lets get_return_object check the layout (check_layout).
    record->waiting_frame = std::coroutine_handle<>::from_address(frame);
    return frame;
  }
  // The promise's operator delete: the frame is gone, the record may stay.
  static void frame_freed(void* frame) noexcept { release(&of(frame)); }

  static typed_task_record& of(void* frame) noexcept {
    return *std::launder(
        reinterpret_cast<typed_task_record*>(static_cast<std::byte*>(frame) - space()));
  }
  static typed_task_record& of(std::coroutine_handle<> frame) noexcept {
    return of(frame.address());
  }

  // The record is found from a coroutine handle by stepping back from its
  // address. That holds if the handle's address is where operator new put
  // the frame, as it is with g++ and clang, though the standard leaves it
  // open: checked once per task, loudly.
  static void check_layout(std::coroutine_handle<> frame) noexcept {
    if (of(frame).waiting_frame != frame) {
      std::fputs("lab::task: the coroutine frame is not where its operator new put it\n", stderr);
      std::abort();
    }
  }

  std::coroutine_handle<> frame() const override {
    auto* self = const_cast<std::byte*>(reinterpret_cast<const std::byte*>(this));
    return std::coroutine_handle<>::from_address(self + space());
  }

  // The result for the awaiting task: its value, or its exception thrown.
  T take() {
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) return std::move(*result.value);
  }
};

}  // namespace detail
}  // namespace lab
