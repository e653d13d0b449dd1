#include "model/row_pool.hpp"

#include <algorithm>

namespace llm::model {

void RowPool::for_rows(size_t n, const std::function<void(size_t, size_t)>& fn) {
    const size_t slices = std::min<size_t>(n, pool_.threads());
    if (slices <= 1) {
        if (n > 0) fn(0, n);
        return;
    }
    pool_.run(slices, [&](size_t slice, unsigned) {
        const size_t begin = n * slice / slices;
        const size_t end = n * (slice + 1) / slices;
        if (begin < end) fn(begin, end);
    });
}

}  // namespace llm::model
