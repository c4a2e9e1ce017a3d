#include "lab/coop_task.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "tracked.hpp"

namespace {

using namespace std::chrono_literals;
using lab::coop::task;
using lab::coop::task_handle;
using lab::coop::task_state;

task three_waits(std::vector<std::string>& trace) {
  trace.push_back("started");
  co_yield lab::coop::yield_now{};
  trace.push_back("after yield_now");
  co_yield lab::coop::sleep_for{25ms};
  trace.push_back("after sleep_for");
  co_yield lab::coop::readable{7};
  trace.push_back("after readable");
  co_return 42;
}

task throws_at_once() {
  throw std::runtime_error("the body failed");
  co_return 0;
}

task holds_a_local(int& alive) {
  lab_test::tracked local(alive);
  for (;;) co_yield lab::coop::yield_now{};
}

}  // namespace

TEST_CASE("a coop task runs none of its body before its first step") {
  std::vector<std::string> trace;
  task t = three_waits(trace);
  CHECK(trace.empty());
  t.step();
  CHECK(trace == std::vector<std::string>{"started"});
}

TEST_CASE("a coop task tells what it waits for at each co_yield and keeps its co_return value") {
  std::vector<std::string> trace;
  task t = three_waits(trace);
  t.step();
  CHECK(std::holds_alternative<lab::coop::yield_now>(t.waiting_for()));
  t.step();
  REQUIRE(std::holds_alternative<lab::coop::sleep_for>(t.waiting_for()));
  CHECK(std::get<lab::coop::sleep_for>(t.waiting_for()).how_long == 25ms);
  t.step();
  REQUIRE(std::holds_alternative<lab::coop::readable>(t.waiting_for()));
  CHECK(std::get<lab::coop::readable>(t.waiting_for()).fd == 7);
  CHECK_FALSE(t.done());
  t.step();
  CHECK(t.done());
  CHECK(t.result() == 42);
  CHECK(t.error() == nullptr);
  CHECK(trace.back() == "after readable");
}

TEST_CASE("a coop task keeps the exception its body threw instead of throwing it from step") {
  task t = throws_at_once();
  CHECK_NOTHROW(t.step());
  CHECK(t.done());
  REQUIRE(t.error() != nullptr);
  CHECK_THROWS_WITH_AS(std::rethrow_exception(t.error()), "the body failed", std::runtime_error);
}

TEST_CASE("destroying an unfinished coop task destroys the locals it was suspended with") {
  int alive = 0;
  {
    task t = holds_a_local(alive);
    t.step();
    CHECK(alive == 1);
    task moved = std::move(t);  // the frame moves with it, and is destroyed once
    moved.step();
    CHECK(alive == 1);
  }
  CHECK(alive == 0);
}

TEST_CASE("a task handle gives the result or the exception once its task has ended") {
  auto state = std::make_shared<task_state>();
  const task_handle handle(state);
  CHECK_FALSE(handle.done());
  CHECK_THROWS_AS(handle.get(), std::logic_error);
  state->result = 5;
  state->finished = true;
  CHECK(handle.done());
  CHECK(handle.get() == 5);
  state->error = std::make_exception_ptr(std::runtime_error("failed"));
  CHECK_THROWS_WITH_AS(handle.get(), "failed", std::runtime_error);
}

TEST_CASE("a task handle of a cancelled task throws task_cancelled") {
  auto state = std::make_shared<task_state>();
  const task_handle handle(state);
  state->cancelled = true;
  CHECK(handle.done());
  CHECK_THROWS_AS(handle.get(), lab::coop::task_cancelled);
}

TEST_CASE("the real time source sleeps until the moment asked for") {
  const lab::coop::time_source time = lab::coop::real_time();
  const lab::coop::time_point until = time.now() + 5ms;
  time.sleep_until(until);
  CHECK(time.now() >= until);
}
