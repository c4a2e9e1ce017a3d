// What the gil checks call in the student's file (exercises/gil.cpp), and
// what every check of it starts with.
#pragma once

#include <lab/check.hpp>

#include <chrono>
#include <cstdint>

class student_gil;
student_gil* make_gil(std::chrono::microseconds interval);
void destroy(student_gil* gil);
void gil_acquire(student_gil& gil);
void gil_release(student_gil& gil);
void gil_safepoint(student_gil& gil);

namespace gil_checks {

inline bool from_stage(int stage) {
  return lab::check::stage() >= stage;
}

// A fresh lock, tried once on this thread first: a stub's lab::todo() then
// shows up here as "not done yet" instead of inside some worker thread.
inline student_gil* fresh_gil(std::chrono::microseconds interval) {
  student_gil* gil = make_gil(interval);
  gil_acquire(*gil);
  if (from_stage(2)) gil_safepoint(*gil);  // nobody waits: returns at once
  gil_release(*gil);
  return gil;
}

// For watch::until when only done() tells anything.
inline std::uint64_t no_progress() {
  return 0;
}

}  // namespace gil_checks
