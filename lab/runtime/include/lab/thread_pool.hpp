// lab::thread_pool: a fixed set of worker threads that run submitted tasks,
// the analogue of Python's multiprocessing.dummy.Pool.
//
// lesson: gil
//
//   lab::thread_pool pool(4);
//   std::future<bool> answer = pool.submit([] { return lab::is_prime(97); });
//   answer.get();  // waits for the task; rethrows its exception, if any
//
// Tasks run in the order they were submitted, each on whichever worker is
// free. The destructor finishes every task already submitted, then joins
// the workers, so no thread outlives the pool.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace lab {

class thread_pool {
 public:
  // Starts `workers` threads (at least one).
  explicit thread_pool(std::size_t workers);
  // Runs what is queued, then joins every worker.
  ~thread_pool();
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

  // Queues f() to run on a worker; the future holds its result or exception.
  // Callable from any thread, including a worker.
  template <typename F>
  auto submit(F f) -> std::future<std::invoke_result_t<F>> {
    using result = std::invoke_result_t<F>;
    // packaged_task is move-only and std::function needs a copyable target:
    // a shared_ptr makes the queued job copyable.
    auto task = std::make_shared<std::packaged_task<result()>>(std::move(f));
    std::future<result> future = task->get_future();
    enqueue([task] { (*task)(); });
    return future;
  }

  std::size_t size() const noexcept { return workers_.size(); }

 private:
  void enqueue(std::function<void()> job);
  void work();  // a worker's loop

  std::mutex mu_;
  std::condition_variable job_ready_;  // signalled on a new job or on stopping
  // guarded by mu_:
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;

  std::vector<std::thread> workers_;  // written only by the constructor and destructor
};

}  // namespace lab
