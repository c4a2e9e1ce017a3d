// Solution: generator                            lesson: coroutines (`bin/lab lesson coroutines`)
//
// A generator of ints built on the C++20 coroutine machinery: the promise
// (what the compiler calls at each point of the coroutine's life) and an
// iterator (what a for loop pulls values with). lab::generator<T> in
// lab/generator.hpp is the same idea for any T, with a faster yield from.
#include <coroutine>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

class int_generator {
 public:
  struct promise_type;
  using handle = std::coroutine_handle<promise_type>;

  struct promise_type {
    int current = 0;            // the value of the last co_yield
    std::exception_ptr error;   // what the body threw, kept for the consumer's step
    handle inner;               // the generator being yielded from, if any (owned)

    int_generator get_return_object() { return int_generator(handle::from_promise(*this)); }
    // Lazy: calling the coroutine makes its frame and runs nothing of its body.
    std::suspend_always initial_suspend() noexcept { return {}; }
    // Stays suspended at the end, so the generator (not the body) decides
    // when the frame goes: it destroys it in its destructor.
    std::suspend_always final_suspend() noexcept { return {}; }
    // co_yield v: keep the value and hand control back to whoever resumed us.
    std::suspend_always yield_value(int value) noexcept {
      current = value;
      return {};
    }
    // co_yield other_generator: take it over; the consumer's steps go to it
    // (see step()) until it ends, and then this body goes on.
    std::suspend_always yield_value(int_generator&& nested) noexcept {
      inner = std::exchange(nested.frame_, {});
      return {};
    }
    void return_void() noexcept {}
    // The body threw: the frame is at its final suspension now. Keep the
    // exception; step() raises it again in the consumer.
    void unhandled_exception() noexcept { error = std::current_exception(); }

    ~promise_type() {
      if (inner) inner.destroy();
    }
  };

  // One pass over the values: begin() runs the body to its first co_yield.
  class iterator {
   public:
    bool operator==(std::default_sentinel_t) const { return !generator_->has_value_; }
    int operator*() const { return generator_->value_; }
    iterator& operator++() {
      generator_->step();
      return *this;
    }

   private:
    friend class int_generator;
    explicit iterator(int_generator* g) : generator_(g) {}
    int_generator* generator_;
  };

  iterator begin() {
    step();
    return iterator(this);
  }
  std::default_sentinel_t end() { return {}; }

  int_generator(int_generator&& other) noexcept
      : frame_(std::exchange(other.frame_, {})), value_(other.value_), has_value_(other.has_value_) {}
  int_generator& operator=(int_generator&& other) noexcept {
    if (this != &other) {
      if (frame_) frame_.destroy();
      frame_ = std::exchange(other.frame_, {});
      value_ = other.value_;
      has_value_ = other.has_value_;
    }
    return *this;
  }
  // Destroying the frame runs the destructors of the body's locals (and of
  // the promise, which destroys a nested generator): finished or not, nothing
  // is left behind.
  ~int_generator() {
    if (frame_) frame_.destroy();
  }

 private:
  explicit int_generator(handle frame) : frame_(frame) {}

  // Moves to the next value: from the nested generator while there is one,
  // else by resuming this body to its next co_yield (or its end).
  void step() {
    promise_type& promise = frame_.promise();
    for (;;) {
      if (promise.inner) {
        int_generator nested(std::exchange(promise.inner, {}));  // owns it while it runs
        nested.step();
        if (nested.has_value_) {
          value_ = nested.value_;
          has_value_ = true;
          promise.inner = std::exchange(nested.frame_, {});  // back to the promise
          return;
        }
        // It has ended (its frame goes with `nested`): on with this body.
      }
      frame_.resume();
      if (promise.error) {
        has_value_ = false;
        std::rethrow_exception(std::exchange(promise.error, nullptr));
      }
      if (frame_.done()) {
        has_value_ = false;
        return;
      }
      if (!promise.inner) {  // a plain co_yield
        value_ = promise.current;
        has_value_ = true;
        return;
      }
    }
  }

  handle frame_;
  int value_ = 0;
  bool has_value_ = false;
};

// ---------------------------------------------------------------------------
// The checks use your generator through the coroutines and functions below;
// leave them as they are.

// 1, 2, ..., n.
int_generator count_to(int n) {
  for (int i = 1; i <= n; ++i) co_yield i;
}

// Says hello(0) when its body starts, then hello(i) just before yielding i.
int_generator count_and_tell(int n, void (*hello)(int)) {
  hello(0);
  for (int i = 1; i <= n; ++i) {
    hello(i);
    co_yield i;
  }
}

// Yields 1, ..., good, then throws what `fail` throws.
int_generator count_then_fail(int good, void (*fail)()) {
  for (int i = 1; i <= good; ++i) co_yield i;
  fail();
}

// Yields first, every value of count_to(n), then last.
int_generator around(int first, int n, int last) {
  co_yield first;
  co_yield count_to(n);
  co_yield last;
}

// A generator yielding from one that yields from another.
int_generator two_deep(int n) {
  co_yield 100;
  co_yield around(0, n, 0);
  co_yield 200;
}

// around(), but the nested generator throws after `good` values.
int_generator around_a_failure(int good, void (*fail)()) {
  co_yield -1;
  co_yield count_then_fail(good, fail);
  co_yield -2;
}

// What the checks hold: a generator and where its iteration is.
struct stepped {
  int_generator generator;
  std::optional<int_generator::iterator> at;  // empty until the first step
};

// The next value into `value`: begin() the first time, ++ after that. False
// once there are no more (and from then on).
bool next_value(stepped* s, int& value) {
  if (!s->at) {
    s->at.emplace(s->generator.begin());
  } else {
    if (*s->at == s->generator.end()) return false;
    ++*s->at;
  }
  if (*s->at == s->generator.end()) return false;
  value = **s->at;
  return true;
}

// Each generator above, made (and run by nothing yet), for the checks to step.
stepped* start_count_to(int n) {
  return new stepped{count_to(n), {}};
}
stepped* start_count_and_tell(int n, void (*hello)(int)) {
  return new stepped{count_and_tell(n, hello), {}};
}
stepped* start_count_then_fail(int good, void (*fail)()) {
  return new stepped{count_then_fail(good, fail), {}};
}
stepped* start_around(int first, int n, int last) {
  return new stepped{around(first, n, last), {}};
}
stepped* start_two_deep(int n) {
  return new stepped{two_deep(n), {}};
}
stepped* start_around_a_failure(int good, void (*fail)()) {
  return new stepped{around_a_failure(good, fail), {}};
}
// Destroys the generator, whether it has finished or not.
void stop(stepped* s) {
  delete s;
}

// The values of count_to(n) and of around(first, n, last), by range-for.
std::vector<int> range_for_count_to(int n) {
  std::vector<int> values;
  for (int v : count_to(n)) values.push_back(v);
  return values;
}
std::vector<int> range_for_around(int first, int n, int last) {
  std::vector<int> values;
  for (int v : around(first, n, last)) values.push_back(v);
  return values;
}
