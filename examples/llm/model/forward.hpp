// What every forward pass offers the generation loop: run one token at a position, get logits.
// Implementations: CpuForward (the f32 reference); the generated-kernel forwards follow.
#pragma once

#include <cstdint>
#include <span>

namespace llm::model {

class Forward {
public:
    virtual ~Forward() = default;
    // The logits (n_vocab values, valid until the next call) of `token` at `pos`, after positions
    // 0 .. pos-1 have run since the last reset().
    virtual std::span<const float> step(int32_t token, int pos) = 0;
    // Runs tokens at positions start, start+1, ... and returns the logits of the last one.
    virtual std::span<const float> prefill(std::span<const int32_t> tokens, int start) = 0;
    virtual void reset() = 0;
    virtual int ctx() const = 0;
    virtual int n_vocab() const = 0;
};

}  // namespace llm::model
