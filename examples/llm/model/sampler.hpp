// Picks the next token from a row of logits: greedy, or random after repetition penalty, top-k,
// top-p and min-p, with temperature.
//
// The order is llama.cpp's default chain: penalty on the logits, then top-k, top-p and min-p on
// the untempered distribution, then temperature on what is left, then one draw. Temperature 0 (or
// below) is greedy: the argmax of the penalised logits. Ties between equal logits always go to
// the lower token id, so the result depends on nothing but the logits, the settings, the seed and
// the tokens accepted so far. The random numbers come from the sampler's own xoshiro256**
// generator (seeded through splitmix64), not from <random>'s distributions, whose output differs
// between standard libraries.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ptxgen/error.hpp"

namespace llm::model {

struct SamplerSettings {
    float temperature = 0.8f;      // <= 0: greedy
    int top_k = 40;                // keep the k most likely tokens; 0: off
    float top_p = 0.95f;           // keep the smallest prefix whose mass reaches p; 1: off
    float min_p = 0.05f;           // drop tokens below min_p times the top probability; 0: off
    float repeat_penalty = 1.0f;   // > 1 makes recent tokens less likely; 1: off
    int repeat_last_n = 64;        // how many recent tokens the penalty looks at; 0: off
    uint64_t seed = 0;

    // Throws ptxsmith::Error naming the setting out of range (temperature not finite, top_k < 0,
    // top_p outside (0, 1], min_p outside [0, 1], repeat_penalty <= 0, repeat_last_n < 0).
    void validate() const;
};

// A small, fast generator with a fixed output for a seed on every platform.
class Xoshiro256 {
public:
    explicit Xoshiro256(uint64_t seed);
    uint64_t next();
    // Uniform in [0, 1) with 53 random bits.
    double uniform();

private:
    uint64_t s_[4];
};

class Sampler {
public:
    explicit Sampler(const SamplerSettings& settings);

    // The next token for `logits` (one per vocabulary entry; finite or -inf). Does not record the
    // token: call accept() with what is actually fed back (the caller may stop at EOS first).
    int32_t sample(std::span<const float> logits);
    // Records a token (prompt tokens too) for the repetition penalty.
    void accept(int32_t token);
    // Forgets the accepted tokens and restarts the generator from the seed.
    void reset();

    const SamplerSettings& settings() const { return settings_; }

private:
    SamplerSettings settings_;
    Xoshiro256 rng_;
    std::vector<int32_t> recent_;  // the last repeat_last_n accepted tokens, oldest first
    // Scratch reused between calls (vocabulary-sized).
    std::vector<float> logits_;
    std::vector<int32_t> order_;
};

// The penalised logits: each distinct token among `recent` has its logit divided by `penalty`
// when positive and multiplied by it otherwise (the CTRL rule llama.cpp uses). Ids outside the
// logits are ignored.
void apply_repeat_penalty(std::span<float> logits, std::span<const int32_t> recent, float penalty);

// The index of the largest value, the lowest index on ties; throws for an empty span.
int32_t argmax(std::span<const float> logits);

}  // namespace llm::model
