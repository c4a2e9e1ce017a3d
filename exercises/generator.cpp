// Exercise: generator                            lesson: coroutines (`bin/lab lesson coroutines`)
//
// Goal: the generator behind Python's `yield`, built by hand on C++20's
// coroutine machinery. A function returning int_generator that uses
// co_yield is a coroutine; the compiler calls the promise_type below at
// each point of its life, and a for loop pulls its values with begin(),
// ++ and *.
//   1. lazy steps: nothing runs before the first value is asked for, each
//      step runs the body to its next co_yield; the frame freed on destroy
//   2. an exception thrown in the body reaches the consumer at its step
//   3. `co_yield count_to(3)` hands over every value of another generator
//      (Python's `yield from`)
//
// The lab has its own, lab::generator<T> (lab/generator.hpp): try without
// it first, then compare.
//
// Run the checks:  bin/lab exercise generator          (or --stage 2)
// Stuck?           bin/lab hint generator
#include <lab/todo.hpp>

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
    int current = 0;           // the value of the last co_yield
    std::exception_ptr error;  // stage 2: what the body threw, for the consumer
    handle inner;              // stage 3: the generator being yielded from, if any

    int_generator get_return_object() { return int_generator(handle::from_promise(*this)); }
    // Called when the coroutine is called, before its body. TODO (stage 1):
    // suspend_never runs the body at once, up to its first co_yield; the
    // consumer wants nothing to run before it asks. Which one is right?
    std::suspend_never initial_suspend() noexcept { return {}; }
    // At the end of the body: stay suspended, so that the generator's
    // destructor (not the body) frees the frame, and done() can be asked.
    std::suspend_always final_suspend() noexcept { return {}; }
    // co_yield value: keep it, and suspend (back to whoever resumed us).
    std::suspend_always yield_value(int value) noexcept {
      current = value;
      return {};
    }
    // Stage 3: co_yield of another generator. TODO: take its frame over
    // (inner), so that the next steps go to it until it ends.
    std::suspend_always yield_value(int_generator&& nested) {
      (void)nested;
      lab::todo("stage 3: keep the nested generator's frame in `inner` (std::exchange(nested.frame_, {}))");
    }
    void return_void() noexcept {}
    // The body threw. TODO (stage 2): keep the exception for the consumer.
    void unhandled_exception() {
      lab::todo("stage 2: keep std::current_exception() in `error` for the consumer's step");
    }
    // TODO (stage 3): a nested generator still held here must go too.
  };

  // One pass over the values: begin() runs the body to its first co_yield,
  // ++ to the next one.
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
      frame_ = std::exchange(other.frame_, {});  // TODO (stage 1): and the frame we had?
      value_ = other.value_;
      has_value_ = other.has_value_;
    }
    return *this;
  }
  ~int_generator() {
    // TODO (stage 1): the frame (the body's locals, the promise) lives until
    // someone destroys it: frame_.destroy(), if there is one.
  }

 private:
  explicit int_generator(handle frame) : frame_(frame) {}

  // Moves to the next value: sets value_ and has_value_ = true, or
  // has_value_ = false when the body has ended.
  void step() {
    // TODO (stage 1): resume the frame; then it is either done() (no more
    // values) or suspended at a co_yield (promise().current is the value).
    // Stage 2: after the resume, rethrow promise().error if the body threw.
    // Stage 3: while promise().inner is set, step that generator instead;
    // when it has ended, destroy it and resume this body again.
    lab::todo("stage 1: resume the coroutine to its next co_yield and take the value it yielded");
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
