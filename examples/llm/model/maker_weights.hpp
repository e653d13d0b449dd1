// The model maker's tensor bytes: random values generated and quantised on a WorkerPool
// (internal to the maker).
#pragma once

#include <cstdint>

#include "model/maker.hpp"
#include "model/maker_pool.hpp"

namespace llm::model {

// Fills `out` (tensor_bytes of t's shape and type) with t's values for `seed`, quantised to
// t.type, the rows spread over the pool in chunks. The bytes do not depend on the thread count.
void fill_tensor(const TensorPlan& t, uint64_t seed, WorkerPool& pool, uint8_t* out);

}  // namespace llm::model
