#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/testing.h"

namespace mloop {
namespace {

using test::CatchError;

// Runs ParallelFor(n) and checks each index in [0, n) was visited exactly once.
void ExpectEachIndexOnce(ThreadPool& pool, size_t n) {
  std::vector<std::atomic<int>> hits(n);
  pool.ParallelFor(n, [&](size_t i) {
    ASSERT_LT(i, n);
    hits[i].fetch_add(1);
  });
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << n;
  }
}

TEST(ThreadPoolTest, SizeIsTheRequestedThreadCount) {
  EXPECT_EQ(ThreadPool(1).size(), 1u);
  EXPECT_EQ(ThreadPool(3).size(), 3u);
  EXPECT_GE(ThreadPool(0).size(),
            1u);  // One per hardware thread, at least one.
}

TEST(ThreadPoolTest, ParallelForZeroDoesNotCall) {
  ThreadPool pool(2);
  std::atomic<int> calls{0};
  pool.ParallelFor(0, [&](size_t) { calls.fetch_add(1); });
  EXPECT_EQ(calls.load(), 0);
}

TEST(ThreadPoolTest, ParallelForCoversEveryIndexExactlyOnce) {
  ThreadPool pool(2);
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{1000}}) {
    ExpectEachIndexOnce(pool, n);
  }
}

TEST(ThreadPoolTest, ParallelForWithMoreThreadsThanIndices) {
  ThreadPool pool(8);
  ExpectEachIndexOnce(pool, 3);
  ExpectEachIndexOnce(pool, 1000);
}

TEST(ThreadPoolTest, PoolOfOne) {
  ThreadPool pool(1);
  ExpectEachIndexOnce(pool, 0);
  ExpectEachIndexOnce(pool, 1);
  ExpectEachIndexOnce(pool, 1000);
  std::atomic<int> ran{0};
  pool.Submit([&] { ran.fetch_add(1); }).get();
  EXPECT_EQ(ran.load(), 1);
}

TEST(ThreadPoolTest, ParallelForSumsCorrectly) {
  ThreadPool pool(2);
  std::atomic<uint64_t> sum{0};
  pool.ParallelFor(10000, [&](size_t i) { sum.fetch_add(i); });
  EXPECT_EQ(sum.load(), 10000ull * 9999 / 2);
}

TEST(ThreadPoolTest, ParallelForRethrowsTheErrorWithItsCode) {
  ThreadPool pool(2);
  std::atomic<int> calls{0};
  Error e = CatchError([&] {
    pool.ParallelFor(100, [&](size_t i) {
      calls.fetch_add(1);
      if (i == 37) ThrowInvalidArgument("row 37: bad value");
    });
  });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message(), "row 37: bad value");
  // Every index still ran: the error does not cancel the others.
  EXPECT_EQ(calls.load(), 100);
}

TEST(ThreadPoolTest, ParallelForRethrowsOneOfSeveralErrors) {
  ThreadPool pool(2);
  try {
    pool.ParallelFor(50, [](size_t i) {
      if (i % 10 == 3) throw std::runtime_error("failed at " + std::to_string(i));
    });
    FAIL() << "ParallelFor did not rethrow";
  } catch (const std::runtime_error& e) {
    const std::set<std::string> allowed = {"failed at 3", "failed at 13", "failed at 23",
                                           "failed at 33", "failed at 43"};
    EXPECT_TRUE(allowed.count(e.what())) << e.what();
  }
}

TEST(ThreadPoolTest, ParallelForOfOneRethrows) {
  ThreadPool pool(2);
  Error e = CatchError([&] { pool.ParallelFor(1, [](size_t) { ThrowNotFound("only one"); }); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_EQ(e.message(), "only one");
}

TEST(ThreadPoolTest, PoolIsUsableAfterAnError) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.ParallelFor(10, [](size_t) { ThrowInternal("boom"); }), Error);
  ExpectEachIndexOnce(pool, 500);
}

TEST(ThreadPoolTest, SubmitFuturesCompleteAndCarryExceptions) {
  ThreadPool pool(2);
  std::atomic<int> done{0};
  std::vector<std::future<void>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(pool.Submit([&] { done.fetch_add(1); }));
  }
  for (auto& f : futures) f.get();
  EXPECT_EQ(done.load(), 100);

  std::future<void> failing = pool.Submit([] { ThrowDataLoss("artifact ab/cd: digest mismatch"); });
  Error e = CatchError([&] { failing.get(); });
  EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
  EXPECT_EQ(e.message(), "artifact ab/cd: digest mismatch");
}

TEST(ThreadPoolTest, SubmitRunsOnWorkerThreads) {
  ThreadPool pool(2);
  std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  pool.Submit([&] { ran_on = std::this_thread::get_id(); }).get();
  EXPECT_NE(ran_on, caller);
}

TEST(ThreadPoolTest, DestructorFinishesQueuedTasks) {
  std::atomic<int> done{0};
  {
    ThreadPool pool(1);
    for (int i = 0; i < 50; ++i) {
      // The futures are dropped on purpose: the destructor must still run the
      // tasks.
      (void)pool.Submit([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        done.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(done.load(), 50);
}

TEST(ThreadPoolTest, ConcurrentParallelForsFromSeveralThreads) {
  ThreadPool pool(2);
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        std::vector<std::atomic<int>> hits(200);
        pool.ParallelFor(200, [&](size_t i) { hits[i].fetch_add(1); });
        for (auto& h : hits) {
          if (h.load() != 1) failures.fetch_add(1);
        }
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ThreadPoolTest, ParallelForInsideAPoolTaskDoesNotDeadlock) {
  // A task running on the only worker calls ParallelFor on the same pool: the
  // helper it queues can never start, so the caller must not wait for it.
  ThreadPool pool(1);
  std::atomic<int> calls{0};
  std::future<void> outer =
      pool.Submit([&] { pool.ParallelFor(100, [&](size_t) { calls.fetch_add(1); }); });
  ASSERT_EQ(outer.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "nested ParallelFor deadlocked";
  outer.get();
  EXPECT_EQ(calls.load(), 100);
}

TEST(ThreadPoolTest, DefaultPoolIsSharedAndWorks) {
  ThreadPool& a = ThreadPool::Default();
  ThreadPool& b = ThreadPool::Default();
  EXPECT_EQ(&a, &b);
  EXPECT_GE(a.size(), 1u);
  ExpectEachIndexOnce(a, 1000);
}

}  // namespace
}  // namespace mloop
