// Splits a range of rows between the threads of a WorkerPool: the CPU forward pass runs every
// matrix-vector product through one, a slice of rows per thread. Each row is computed whole by
// one thread, so results do not depend on the number of threads.
#pragma once

#include <cstddef>
#include <functional>

#include "model/maker_pool.hpp"

namespace llm::model {

class RowPool {
public:
    // threads == 0: one per hardware thread. The calling thread is one of them.
    explicit RowPool(unsigned threads = 0) : pool_(threads) {}

    // Calls fn(begin, end) on contiguous slices that cover [0, n) once, in parallel, and returns
    // when all are done. The first exception thrown by fn is rethrown here. Not reentrant: one
    // call at a time.
    void for_rows(size_t n, const std::function<void(size_t, size_t)>& fn);

    unsigned threads() const { return pool_.threads(); }

private:
    WorkerPool pool_;
};

}  // namespace llm::model
