// An object that counts how many of it are alive: tests of coroutines and
// green threads use it to see that a frame or a stack freed its locals.
#pragma once

namespace lab_test {

struct tracked {
  explicit tracked(int& alive) : alive_(alive) { ++alive_; }
  tracked(const tracked&) = delete;
  tracked& operator=(const tracked&) = delete;
  ~tracked() { --alive_; }
  int& alive_;
};

}  // namespace lab_test
