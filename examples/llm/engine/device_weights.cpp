#include "engine/device_weights.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/quant.hpp"
#include "ptxgen/error.hpp"

namespace llm::engine {

namespace {

constexpr uint64_t kAlign = 256;
constexpr size_t kStagingBytes = size_t{32} << 20;  // per staging buffer

uint64_t aligned(uint64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

uint64_t device_bytes(const model::TensorView& t) {
    return is_vector(t) ? static_cast<uint64_t>(t.cols) * 4 : t.data.size();
}

// Page-locked staging memory, double-buffered: fill() copies into the buffer not in flight, then
// waits for the copy in flight and starts its own.
class Staging {
public:
    explicit Staging(ptxsmith::runtime::Device& dev) : dev_(dev) {
        buffers_[0] = dev.alloc_host(kStagingBytes);
        try {
            buffers_[1] = dev.alloc_host(kStagingBytes);
        } catch (...) {
            dev.free_host(buffers_[0]);
            throw;
        }
    }
    // Never throws: after a device error the error being unwound is the one to report.
    ~Staging() {
        try {
            dev_.synchronize();
            for (void* b : buffers_) dev_.free_host(b);
        } catch (...) {
        }
    }
    Staging(const Staging&) = delete;
    Staging& operator=(const Staging&) = delete;

    // Copies bytes [0, n) of src to dst on the device, through the staging buffers.
    void upload(uint64_t dst, const uint8_t* src, size_t n) {
        for (size_t done = 0; done < n;) {
            const size_t piece = std::min(kStagingBytes, n - done);
            auto* buffer = static_cast<uint8_t*>(buffers_[next_]);
            std::memcpy(buffer, src + done, piece);  // overlaps the other buffer's copy
            dev_.synchronize();                      // that copy is done: its buffer is free again
            dev_.upload_async(dst + done, buffer, piece);
            next_ ^= 1;
            done += piece;
        }
    }

private:
    ptxsmith::runtime::Device& dev_;
    void* buffers_[2] = {nullptr, nullptr};
    unsigned next_ = 0;
};

}  // namespace

bool is_vector(const model::TensorView& t) { return t.rows == 1; }

DeviceWeights::DeviceWeights(ptxsmith::runtime::Device& dev, const model::Weights& weights, const UploadProgress& progress,
                             const std::vector<std::vector<const model::TensorView*>>& contiguous)
    : dev_(dev) {
    const std::vector<const model::TensorView*> tensors = weights.all();
    uint64_t total = 0;
    // The groups first, each starting aligned and packed inside; then everything else.
    for (const auto& group : contiguous) {
        for (const model::TensorView* t : group) {
            if (offsets_.count(t->name) != 0) throw ptxsmith::Error(fmt::format("tensor '{}' is in two contiguous groups", t->name));
            offsets_[t->name] = bytes_;
            bytes_ += device_bytes(*t);
        }
        bytes_ = aligned(bytes_);
    }
    for (const model::TensorView* t : tensors) {
        total += device_bytes(*t);
        if (offsets_.count(t->name) != 0) continue;
        offsets_[t->name] = bytes_;
        bytes_ += aligned(device_bytes(*t));
    }
    base_ = dev.alloc(bytes_, "model weights");
    try {
        Staging staging(dev);
        uint64_t done = 0;
        std::vector<float> f32;
        for (const model::TensorView* t : tensors) {
            const uint64_t dst = base_ + offsets_.at(t->name);
            if (is_vector(*t)) {
                f32.resize(static_cast<size_t>(t->cols));
                kernels::quant::dequantize(t->type, t->data.data(), f32.data(), t->cols);
                staging.upload(dst, reinterpret_cast<const uint8_t*>(f32.data()), f32.size() * 4);
            } else {
                staging.upload(dst, t->data.data(), t->data.size());
            }
            done += device_bytes(*t);
            if (progress) progress(done, total);
        }
    } catch (...) {
        dev.free(base_);
        throw;
    }
}

DeviceWeights::~DeviceWeights() {
    try {
        dev_.free(base_);
    } catch (...) {  // after a device error; the error being unwound is the one to report
    }
}

uint64_t DeviceWeights::operator[](const model::TensorView& t) const {
    const auto it = offsets_.find(t.name);
    if (it == offsets_.end()) throw ptxsmith::Error(fmt::format("tensor '{}' is not on the device", t.name));
    return base_ + it->second;
}

}  // namespace llm::engine
