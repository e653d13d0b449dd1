#include "model/row_pool.hpp"

#include <algorithm>
#include <utility>

namespace llm::model {

RowPool::RowPool(unsigned threads) {
    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    workers_.reserve(threads - 1);
    for (unsigned i = 1; i < threads; ++i) workers_.emplace_back([this, i] { worker_loop(i); });
}

RowPool::~RowPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
}

void RowPool::run_slice(unsigned slice) {
    const size_t n = rows_, parts = threads();
    const size_t begin = n * slice / parts, end = n * (slice + 1) / parts;
    if (begin == end) return;
    try {
        (*job_)(begin, end);
    } catch (...) {
        std::lock_guard lock(mutex_);
        if (!error_) error_ = std::current_exception();
    }
}

void RowPool::worker_loop(unsigned index) {
    unsigned seen = 0;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
        }
        run_slice(index);
        {
            std::lock_guard lock(mutex_);
            if (--pending_ == 0) finished_.notify_one();
        }
    }
}

void RowPool::for_rows(size_t n, const std::function<void(size_t, size_t)>& fn) {
    if (n == 0) return;
    if (workers_.empty()) {
        fn(0, n);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        job_ = &fn;
        rows_ = n;
        error_ = nullptr;
        pending_ = static_cast<unsigned>(workers_.size());
        ++generation_;
    }
    wake_.notify_all();
    run_slice(0);
    std::unique_lock lock(mutex_);
    finished_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

}  // namespace llm::model
