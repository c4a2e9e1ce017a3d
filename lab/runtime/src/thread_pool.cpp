#include "lab/thread_pool.hpp"

namespace lab {

thread_pool::thread_pool(std::size_t workers) {
  if (workers == 0) workers = 1;
  workers_.reserve(workers);
  for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
}

thread_pool::~thread_pool() {
  {
    std::scoped_lock lock(mu_);
    stopping_ = true;
  }
  job_ready_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void thread_pool::enqueue(std::function<void()> job) {
  {
    std::scoped_lock lock(mu_);
    jobs_.push_back(std::move(job));
  }
  job_ready_.notify_one();
}

// Takes jobs until the pool stops and the queue is empty.
// Runs on each worker thread; runs each job without holding mu_, so that a
// job may submit more jobs.
void thread_pool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      job_ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to do
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace lab
