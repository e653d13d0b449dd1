// A model's tensors in device memory, uploaded once. Matrices keep their stored bytes (the
// kernels read GGUF blocks directly); vectors (norm weights, biases) are converted to f32, the
// form the kernels read them in. Everything lives in one allocation, each tensor at a 256-byte
// aligned offset, so loading makes one driver allocation and freeing one more.
//
// Groups of matrices can be asked to lie back to back (no padding between them): matrices of one
// format and width then read as one taller matrix, so that one launch computes all their products
// (the Q, K and V projections of a layer, for instance).
//
// The upload streams through two page-locked staging buffers: while one is copied to the device,
// the next piece of the memory-mapped file is copied into the other.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/weights.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace llm::engine {

// Called with bytes uploaded so far and the total, now and then during the upload and once at the end.
using UploadProgress = std::function<void(uint64_t done, uint64_t total)>;

class DeviceWeights {
public:
    // `contiguous`: groups of tensors of `weights` to place back to back, each group in its order.
    DeviceWeights(ptxsmith::runtime::Device& dev, const model::Weights& weights, const UploadProgress& progress = {},
                  const std::vector<std::vector<const model::TensorView*>>& contiguous = {});
    ~DeviceWeights();
    DeviceWeights(const DeviceWeights&) = delete;
    DeviceWeights& operator=(const DeviceWeights&) = delete;

    // The device address of a tensor of `weights` (by name). Throws ptxsmith::Error for a tensor
    // that was not uploaded.
    uint64_t operator[](const model::TensorView& t) const;
    uint64_t bytes() const { return bytes_; }

private:
    ptxsmith::runtime::Device& dev_;
    uint64_t base_ = 0;
    uint64_t bytes_ = 0;
    std::map<std::string, uint64_t> offsets_;
};

// True for a one-row tensor (a norm weight or a bias), which is uploaded as f32.
bool is_vector(const model::TensorView& t);

}  // namespace llm::engine
