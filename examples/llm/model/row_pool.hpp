// A fixed set of worker threads that split a range of rows between them: the CPU forward pass
// runs every matrix-vector product through one, a slice of rows per thread. Each row is
// computed whole by one thread, so results do not depend on the number of threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llm::model {

class RowPool {
public:
    // threads == 0: one per hardware thread. The calling thread is one of them.
    explicit RowPool(unsigned threads = 0);
    ~RowPool();
    RowPool(const RowPool&) = delete;
    RowPool& operator=(const RowPool&) = delete;

    // Calls fn(begin, end) on contiguous slices that cover [0, n) once, in parallel, and returns
    // when all are done. The first exception thrown by fn is rethrown here. Not reentrant: one
    // call at a time.
    void for_rows(size_t n, const std::function<void(size_t, size_t)>& fn);

    unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

private:
    void worker_loop(unsigned index);
    void run_slice(unsigned slice);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable wake_, finished_;
    // The job in progress; `generation` tells the workers a new one has started.
    const std::function<void(size_t, size_t)>* job_ = nullptr;
    size_t rows_ = 0;
    unsigned generation_ = 0;
    unsigned pending_ = 0;
    bool stopping_ = false;
    std::exception_ptr error_;
};

}  // namespace llm::model
