// A fixed set of worker threads that run the items of one parallel loop at a time (the model
// maker's generate-and-quantise loops, and the CPU forward's row slices through RowPool). The
// calling thread works too.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace llm::model {

class WorkerPool {
public:
    // `threads` threads in all, the caller included; 0 means one per core.
    explicit WorkerPool(unsigned threads);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    unsigned threads() const { return static_cast<unsigned>(workers_.size()) + 1; }

    // Runs task(i, thread) for every i in [0, count), each exactly once, spread over the threads
    // (`thread` in [0, threads()) tells a task which per-thread scratch to use); returns when all
    // are done. When a task throws, the remaining items are skipped and the first exception is
    // rethrown here.
    void run(size_t count, const std::function<void(size_t item, unsigned thread)>& task);

private:
    void worker_loop(unsigned thread);
    void work(unsigned thread);

    std::vector<std::thread> workers_;
    std::mutex mutex_;
    std::condition_variable start_;
    std::condition_variable done_;
    // The current loop, guarded by mutex_.
    const std::function<void(size_t, unsigned)>* task_ = nullptr;
    size_t count_ = 0;
    size_t next_ = 0;
    size_t running_ = 0;        // workers inside the current loop
    unsigned long generation_ = 0;
    bool stop_ = false;
    std::exception_ptr error_;
};

}  // namespace llm::model
