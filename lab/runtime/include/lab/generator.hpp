// lab::generator<T>: a lazy sequence written as a coroutine (Python's
// generator functions, C++23's std::generator; g++ 12 has neither).
//
//   lab::generator<int> count_to(int n) {
//     for (int i = 1; i <= n; ++i) co_yield i;     // hands i out, then waits
//   }
//   for (int i : count_to(3)) std::cout << i;      // 123
//
// What a student can rely on (each is a test in tests/runtime/generator_test.cpp):
// - Lazy: calling count_to(3) runs none of its body. Each step of the
//   consumer (begin(), ++it) runs the body up to its next co_yield, or to
//   its end.
// - An exception thrown in the body comes out of the consumer's begin() or
//   ++it, the step that ran the code that threw. The generator is then
//   finished.
// - A generator destroyed before its end frees its frame: the locals it
//   was suspended with are destroyed, as if it had returned from there.
// - `co_yield lab::elements_of(other())` hands out every element of another
//   generator, as Python's `yield from` does: the consumer sees one flat
//   sequence. The nested generator runs directly when the consumer steps
//   (not through one resume per level), and its exceptions reach the body
//   that yielded it, where they can be caught.
//
// Single-threaded: a generator and its iterators belong to one thread at a
// time. A generator is a coroutine, not a thread; it runs only inside the
// consumer's steps, on the consumer's stack of calls.
#pragma once

#include <coroutine>
#include <exception>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

namespace lab {

template <typename T>
class generator;

// Wraps a generator so that `co_yield` hands out its elements one by one
// instead of the generator itself (C++23: std::ranges::elements_of).
//
// A class with a constructor, not an aggregate, on purpose: g++ 12 destroys
// a temporary twice when an aggregate is built from it inside a co_yield
// expression (the generator inside would be freed twice).
template <typename T>
class elements_of {
 public:
  explicit elements_of(generator<T>&& nested) : inner(std::move(nested)) {}
  generator<T> inner;
};

template <typename T>
class generator {
 public:
  using value_type = std::remove_cvref_t<T>;
  using reference = const value_type&;

  struct promise_type;
  using handle = std::coroutine_handle<promise_type>;

  // The state the compiler keeps for one running generator body.
  //
  // Nesting: when a body yields `elements_of(inner)`, `inner` runs as a
  // child. The outermost generator (the root: the one the consumer holds)
  // keeps a pointer to the innermost one running (its `leaf`), and the
  // consumer always resumes the leaf. A child that ends hands control back
  // to its parent directly (final_suspend), and the root's leaf moves back up.
  struct promise_type {
    const value_type* current = nullptr;  // the root's: the element last handed out
    promise_type* root = this;
    promise_type* leaf = this;            // the root's: which body to resume
    promise_type* parent = nullptr;       // a child's: who yielded it
    std::exception_ptr error;

    generator get_return_object() { return generator{handle::from_promise(*this)}; }

    // Lazy: nothing runs until the consumer asks for the first element.
    std::suspend_always initial_suspend() noexcept { return {}; }

    // The yielded value lives in the body's frame until the body resumes:
    // a named variable does, and so does a temporary (it lives until the end
    // of the full expression, which contains the suspension). So keeping
    // its address is enough; nothing is copied.
    std::suspend_always yield_value(const value_type& value) noexcept {
      root->current = std::addressof(value);
      return {};
    }
    std::suspend_always yield_value(value_type&& value) noexcept {
      root->current = std::addressof(value);
      return {};
    }

    // co_yield elements_of(inner): run `inner` as a child until it ends.
    struct nested_awaiter {
      generator inner;  // owned here, in the parent's frame, while it runs

      bool await_ready() const noexcept { return !inner.frame_; }
      std::coroutine_handle<> await_suspend(handle parent_frame) noexcept {
        promise_type& child = inner.frame_.promise();
        promise_type& parent = parent_frame.promise();
        child.parent = &parent;
        child.root = parent.root;
        parent.root->leaf = &child;
        return inner.frame_;  // symmetric transfer: the child runs now, on our behalf
      }
      void await_resume() {
        if (inner.frame_ && inner.frame_.promise().error)
          std::rethrow_exception(inner.frame_.promise().error);  // into the parent's body
      }
    };
    nested_awaiter yield_value(elements_of<T>&& nested) noexcept {
      return nested_awaiter{std::move(nested.inner)};
    }

    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }

    // At the end of a body: a child hands control back to its parent (which
    // then checks the child's error in await_resume); the root returns to
    // the consumer's step.
    struct final_awaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(handle finished) noexcept {
        promise_type& self = finished.promise();
        if (self.parent == nullptr) return std::noop_coroutine();
        self.root->leaf = self.parent;
        return handle::from_promise(*self.parent);
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }

    // co_await has no meaning in a generator: a generator waits only at co_yield.
    template <typename U>
    std::suspend_never await_transform(U&&) = delete;
  };

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using difference_type = std::ptrdiff_t;
    using value_type = generator::value_type;
    using reference = generator::reference;

    iterator() = default;
    reference operator*() const { return *frame_.promise().current; }
    const value_type* operator->() const { return frame_.promise().current; }
    iterator& operator++() {
      step(frame_);
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return !frame_ || frame_.done(); }

   private:
    friend generator;
    explicit iterator(handle frame) : frame_(frame) {}
    handle frame_{};
  };

  generator() = default;
  generator(generator&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  generator& operator=(generator&& other) noexcept {
    if (this != &other) {
      destroy();
      frame_ = std::exchange(other.frame_, {});
    }
    return *this;
  }
  generator(const generator&) = delete;
  generator& operator=(const generator&) = delete;
  ~generator() { destroy(); }

  // Runs the body up to its first co_yield. Call once: a generator is a
  // single pass, like a Python generator.
  iterator begin() {
    if (frame_) step(frame_);
    return iterator{frame_};
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  explicit generator(handle frame) : frame_(frame) {}

  // One step of the consumer: resume whichever body runs innermost, then
  // pass on an exception that escaped the outermost one.
  static void step(handle root) {
    promise_type& promise = root.promise();
    handle::from_promise(*promise.leaf).resume();
    if (root.done() && promise.error) std::rethrow_exception(std::exchange(promise.error, {}));
  }

  // Destroying the root's frame destroys what it was suspended with,
  // including a nested_awaiter and so the child generator it owns.
  void destroy() noexcept {
    if (frame_) std::exchange(frame_, {}).destroy();
  }

  handle frame_{};
};

}  // namespace lab
