#include "model/sampler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace llm::model {

void SamplerSettings::validate() const {
    if (!std::isfinite(temperature)) throw ptxsmith::Error(fmt::format("temperature {} is not a finite number", temperature));
    if (top_k < 0) throw ptxsmith::Error(fmt::format("top-k {} is negative (0 turns it off)", top_k));
    if (!(top_p > 0.0f && top_p <= 1.0f)) throw ptxsmith::Error(fmt::format("top-p {} is outside (0, 1] (1 turns it off)", top_p));
    if (!(min_p >= 0.0f && min_p <= 1.0f)) throw ptxsmith::Error(fmt::format("min-p {} is outside [0, 1] (0 turns it off)", min_p));
    if (!(repeat_penalty > 0.0f) || !std::isfinite(repeat_penalty)) {
        throw ptxsmith::Error(fmt::format("repeat penalty {} is not a positive number (1 turns it off)", repeat_penalty));
    }
    if (repeat_last_n < 0) throw ptxsmith::Error(fmt::format("repeat-last-n {} is negative (0 turns it off)", repeat_last_n));
}

namespace {

uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Xoshiro256::Xoshiro256(uint64_t seed) {
    // splitmix64 spreads any seed (0 included) over the state, which must not be all zero.
    for (uint64_t& s : s_) s = splitmix64(seed);
}

uint64_t Xoshiro256::next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Xoshiro256::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

void apply_repeat_penalty(std::span<float> logits, std::span<const int32_t> recent, float penalty) {
    std::vector<int32_t> distinct(recent.begin(), recent.end());
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (const int32_t id : distinct) {
        if (id < 0 || static_cast<size_t>(id) >= logits.size()) continue;
        float& l = logits[static_cast<size_t>(id)];
        l = l > 0.0f ? l / penalty : l * penalty;
    }
}

int32_t argmax(std::span<const float> logits) {
    if (logits.empty()) throw ptxsmith::Error("cannot pick a token from an empty row of logits");
    // NaN never wins (as in the device's argmax kernel); ties go to the lowest id.
    size_t best = logits.size();
    for (size_t i = 0; i < logits.size(); ++i) {
        if (std::isnan(logits[i])) continue;
        if (best == logits.size() || logits[i] > logits[best]) best = i;
    }
    if (best == logits.size()) throw ptxsmith::Error("every logit is NaN: no token can be picked");
    return static_cast<int32_t>(best);
}

Sampler::Sampler(const SamplerSettings& settings) : settings_(settings), rng_(settings.seed) { settings_.validate(); }

void Sampler::accept(int32_t token) {
    if (settings_.repeat_last_n <= 0) return;
    recent_.push_back(token);
    if (recent_.size() > static_cast<size_t>(settings_.repeat_last_n)) recent_.erase(recent_.begin());
}

void Sampler::reset() {
    recent_.clear();
    rng_ = Xoshiro256(settings_.seed);
}

int32_t Sampler::sample(std::span<const float> logits) {
    const size_t n = logits.size();
    if (n == 0) throw ptxsmith::Error("cannot pick a token from an empty row of logits");
    logits_.assign(logits.begin(), logits.end());
    for (size_t i = 0; i < n; ++i) {
        if (std::isnan(logits_[i])) throw ptxsmith::Error(fmt::format("the logit of token {} is NaN", i));
    }
    if (settings_.repeat_penalty != 1.0f && !recent_.empty()) apply_repeat_penalty(logits_, recent_, settings_.repeat_penalty);
    if (settings_.temperature <= 0.0f) return argmax(logits_);

    const float lmax = logits_[static_cast<size_t>(argmax(logits_))];
    if (std::isinf(lmax) && lmax < 0) throw ptxsmith::Error("every logit is -inf: no token can be picked");
    // Unnormalised probabilities of the untempered distribution; the top token has 1.
    auto prob = [&](int32_t id) { return std::exp(static_cast<double>(logits_[static_cast<size_t>(id)]) - lmax); };

    // Candidates in decreasing logit order, lower id first on ties (a total order, so every
    // sort gives the same sequence). Only as long a prefix as the filters look at is sorted.
    order_.resize(n);
    std::iota(order_.begin(), order_.end(), 0);
    const auto before = [&](int32_t a, int32_t b) {
        const float la = logits_[static_cast<size_t>(a)], lb = logits_[static_cast<size_t>(b)];
        return la > lb || (la == lb && a < b);
    };
    size_t sorted = 0;
    const auto sort_through = [&](size_t i) {
        if (i < sorted) return;
        const size_t upto = std::min(n, std::max({sorted * 2, size_t{64}, i + 1}));
        std::partial_sort(order_.begin() + static_cast<std::ptrdiff_t>(sorted), order_.begin() + static_cast<std::ptrdiff_t>(upto),
                          order_.end(), before);
        sorted = upto;
    };

    const size_t limit = settings_.top_k > 0 ? std::min(n, static_cast<size_t>(settings_.top_k)) : n;
    // top-p measures mass against what top-k left.
    double mass = 0.0;
    if (settings_.top_p < 1.0f) {
        if (limit < n) sort_through(limit - 1);
        for (size_t i = 0; i < limit; ++i) mass += prob(order_[i]);
    }
    size_t keep = 0;
    double cumulative = 0.0;
    for (size_t i = 0; i < limit; ++i) {
        sort_through(i);
        const double p = prob(order_[i]);
        if (i > 0 && settings_.min_p > 0.0f && p < static_cast<double>(settings_.min_p)) break;
        keep = i + 1;
        cumulative += p;
        if (settings_.top_p < 1.0f && cumulative >= static_cast<double>(settings_.top_p) * mass) break;
    }

    // Temperature applies to the survivors only; one uniform draw picks among them.
    std::vector<double> weights(keep);
    double total = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        weights[i] = std::exp((static_cast<double>(logits_[static_cast<size_t>(order_[i])]) - lmax) / settings_.temperature);
        total += weights[i];
    }
    const double r = rng_.uniform() * total;
    double acc = 0.0;
    for (size_t i = 0; i < keep; ++i) {
        acc += weights[i];
        if (r < acc) return order_[i];
    }
    return order_[keep - 1];
}

}  // namespace llm::model
