#include "model/maker_pool.hpp"

#include <algorithm>

namespace llm::model {

WorkerPool::WorkerPool(unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    workers_.reserve(threads - 1);
    for (unsigned t = 1; t < threads; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

WorkerPool::~WorkerPool() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    start_.notify_all();
    for (std::thread& w : workers_) w.join();
}

// Takes items until none is left; items are claimed under the lock (they are coarse: a chunk of
// rows each), so the lock is never the bottleneck.
void WorkerPool::work(unsigned thread) {
    std::unique_lock lock(mutex_);
    while (next_ < count_) {
        const size_t item = next_++;
        const auto* task = task_;
        lock.unlock();
        try {
            (*task)(item, thread);
            lock.lock();
        } catch (...) {
            lock.lock();
            if (!error_) error_ = std::current_exception();
            next_ = count_;
        }
    }
}

void WorkerPool::worker_loop(unsigned thread) {
    unsigned long seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
        start_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        ++running_;
        lock.unlock();
        work(thread);
        lock.lock();
        if (--running_ == 0) done_.notify_all();
    }
}

void WorkerPool::run(size_t count, const std::function<void(size_t, unsigned)>& task) {
    {
        std::lock_guard lock(mutex_);
        task_ = &task;
        count_ = count;
        next_ = 0;
        error_ = nullptr;
        ++generation_;
    }
    start_.notify_all();
    work(0);
    std::unique_lock lock(mutex_);
    // Every item is claimed; wait for the workers still finishing theirs.
    done_.wait(lock, [&] { return running_ == 0; });
    task_ = nullptr;
    count_ = 0;
    if (error_) {
        const std::exception_ptr e = error_;
        error_ = nullptr;
        std::rethrow_exception(e);
    }
}

}  // namespace llm::model
