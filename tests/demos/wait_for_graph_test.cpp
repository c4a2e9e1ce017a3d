// The wait-for graph: a cycle of "waits for, held by" is a deadlock, and
// anything short of a cycle is not.
#include "wait_for_graph.hpp"

#include <doctest/doctest.h>

using lab::demos::wait_edge;
using lab::demos::wait_for_graph;

namespace {

// Thread 1 holds A and waits for B; thread 2 holds B and waits for A.
void make_two_thread_deadlock(wait_for_graph& graph) {
  graph.acquired("thread 1", "lock A");
  graph.acquired("thread 2", "lock B");
  graph.waiting("thread 1", "lock B");
  graph.waiting("thread 2", "lock A");
}

}  // namespace

TEST_CASE("two threads each waiting for the lock the other holds form a cycle") {
  wait_for_graph graph;
  graph.acquired("thread 1", "lock A");
  graph.acquired("thread 2", "lock B");
  graph.waiting("thread 1", "lock B");
  CHECK(graph.find_cycle().empty());  // thread 2 still runs: it may let go of B
  graph.waiting("thread 2", "lock A");
  CHECK(graph.find_cycle() == std::vector<wait_edge>{{"thread 1", "lock B", "thread 2"},
                                                     {"thread 2", "lock A", "thread 1"}});
}

TEST_CASE("a cycle of three threads is found and starts at its smallest thread name") {
  wait_for_graph graph;
  graph.acquired("c", "lock 3");
  graph.acquired("a", "lock 1");
  graph.acquired("b", "lock 2");
  graph.waiting("c", "lock 1");
  graph.waiting("b", "lock 3");
  graph.waiting("a", "lock 2");
  CHECK(graph.find_cycle() ==
        std::vector<wait_edge>{{"a", "lock 2", "b"}, {"b", "lock 3", "c"}, {"c", "lock 1", "a"}});
}

TEST_CASE("a thread waiting on a deadlocked thread is not part of the cycle") {
  wait_for_graph graph;
  graph.acquired("b", "lock B");
  graph.acquired("c", "lock C");
  graph.waiting("b", "lock C");
  graph.waiting("c", "lock B");
  graph.waiting("a", "lock B");  // "a" is stuck too, but only behind the cycle
  CHECK(graph.find_cycle() == std::vector<wait_edge>{{"b", "lock C", "c"}, {"c", "lock B", "b"}});
}

TEST_CASE("waiting for a free lock or for a running thread is no deadlock") {
  wait_for_graph graph;
  graph.waiting("thread 1", "lock A");  // nobody holds A
  CHECK(graph.find_cycle().empty());
  graph.acquired("thread 2", "lock A");  // thread 2 holds A and waits for nothing
  CHECK(graph.find_cycle().empty());
}

TEST_CASE("a release or a given-up wait breaks the cycle") {
  wait_for_graph graph;
  make_two_thread_deadlock(graph);
  REQUIRE_FALSE(graph.find_cycle().empty());
  graph.gave_up_waiting("thread 2");
  CHECK(graph.find_cycle().empty());
  graph.waiting("thread 2", "lock A");
  REQUIRE_FALSE(graph.find_cycle().empty());
  graph.released("thread 1", "lock A");
  CHECK(graph.find_cycle().empty());
}

TEST_CASE("a release by a thread that does not hold the lock changes nothing") {
  wait_for_graph graph;
  make_two_thread_deadlock(graph);
  graph.released("thread 2", "lock A");  // thread 1 holds A, not thread 2
  CHECK(graph.find_cycle().size() == 2);
}
