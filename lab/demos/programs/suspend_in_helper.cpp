// The generators' limit, on its own, for the coro.limit demo. Two
// generators take turns (round robin, as in the lesson), and each hands its
// numbers out through a helper, `announce`.
//
// As written, `announce` is a plain function with a co_yield in it, and
// that does not compile: a co_yield makes the function it is in a
// coroutine of its own, and a function returning void has no promise type
// to be one. It cannot suspend `my_coro`, its caller: only a coroutine's
// own body can.
//
// With -DLAB_FIXED, the workaround: `announce` becomes a generator too, and
// `my_coro` passes each of its suspensions up with lab::elements_of (what
// Python writes `yield from`). Then it compiles, and the order is the
// lesson's: coro1 1, coro2 1, coro1 2, coro2 2, ...
//
// lesson: coroutines
#include <lab/generator.hpp>

#include <cstdio>
#include <string>
#include <vector>

#ifdef LAB_FIXED
// A generator: its caller can step it, and so can the generator that called it.
lab::generator<int> announce(int i) {
  co_yield i;
}
#else
// A plain function: it wants to suspend whoever called it, and cannot.
void announce(int i) {
  co_yield i;
}
#endif

lab::generator<int> my_coro() {
  for (int i = 1; i <= 3; ++i) {
#ifdef LAB_FIXED
    co_yield lab::elements_of(announce(i));  // every suspension of announce passes through
#else
    announce(i);  // would have to suspend my_coro from inside a call
#endif
  }
}

int main() {
  std::vector<lab::generator<int>> coros;
  coros.push_back(my_coro());
  coros.push_back(my_coro());
  std::vector<lab::generator<int>::iterator> at(coros.size());
  for (int round = 0; round < 3; ++round)
    for (std::size_t i = 0; i < coros.size(); ++i) {
      if (round == 0)
        at[i] = coros[i].begin();
      else
        ++at[i];
      std::printf("coro%zu %d\n", i + 1, *at[i]);
    }
}
