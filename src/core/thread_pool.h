// A fixed-size pool of worker threads and ParallelFor over an index range. Submit and
// ParallelFor are thread-safe. An exception thrown by a task is rethrown by the call
// that waits for it (the future, or ParallelFor itself).
#ifndef MLOOP_CORE_THREAD_POOL_H_
#define MLOOP_CORE_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <future>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace mloop {

class ThreadPool {
 public:
  // `threads` == 0 means one per hardware thread.
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();  // Finishes the queued tasks, then joins.
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  std::future<void> Submit(std::function<void()> task);

  // Runs fn(i) for i in [0, n), spread over the pool and the calling thread; returns
  // when all are done. Rethrows the first exception a call threw. Safe to call from a
  // task running on this pool: the caller works through the indices itself and waits
  // only for helpers that started, so nested calls cannot deadlock.
  void ParallelFor(size_t n, const std::function<void(size_t)>& fn);

  // The process-wide pool, sized to the machine (or MLOOP_THREADS when set).
  static ThreadPool& Default();

 private:
  void WorkerLoop();

  std::vector<std::thread> workers_;
  std::queue<std::packaged_task<void()>> tasks_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace mloop

#endif  // MLOOP_CORE_THREAD_POOL_H_
