// The sampler: greedy picks the argmax, filters exclude what they should, the repetition penalty
// lowers recent tokens, and a seed fixes the sequence.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "model/sampler.hpp"

using llm::model::Sampler;
using llm::model::SamplerSettings;

namespace {

std::vector<float> random_logits(std::mt19937& rng, size_t n) {
    std::normal_distribution<float> d(0.0f, 3.0f);
    std::vector<float> l(n);
    for (float& v : l) v = d(rng);
    return l;
}

// Logits whose softmax is exactly `probs` (up to rounding).
std::vector<float> logits_of(const std::vector<double>& probs) {
    std::vector<float> l;
    for (const double p : probs) l.push_back(static_cast<float>(std::log(p)));
    return l;
}

SamplerSettings plain(uint64_t seed) {
    SamplerSettings s;
    s.temperature = 1.0f;
    s.top_k = 0;
    s.top_p = 1.0f;
    s.min_p = 0.0f;
    s.seed = seed;
    return s;
}

// How often each token comes out of `draws` samples.
std::map<int32_t, int> histogram(Sampler& s, const std::vector<float>& logits, int draws) {
    std::map<int32_t, int> h;
    for (int i = 0; i < draws; ++i) ++h[s.sample(logits)];
    return h;
}

}  // namespace

TEST_CASE("greedy sampling picks the argmax, the lowest id on ties") {
    std::mt19937 rng(std::random_device{}());
    SamplerSettings s;
    s.temperature = 0.0f;
    Sampler sampler(s);
    for (int round = 0; round < 20; ++round) {
        const std::vector<float> l = random_logits(rng, 1000);
        size_t best = 0;
        for (size_t i = 0; i < l.size(); ++i) best = l[i] > l[best] ? i : best;
        CHECK(sampler.sample(l) == static_cast<int32_t>(best));
    }
    CHECK(sampler.sample(std::vector<float>{1.0f, 3.0f, 3.0f, 2.0f}) == 1);
    CHECK(llm::model::argmax(std::vector<float>{-INFINITY, -1.0f, -1.0f}) == 1);
    // NaN never wins, wherever it is; a row of NaN is an error, not token 0.
    CHECK(llm::model::argmax(std::vector<float>{NAN, -3.0f, 2.0f, NAN}) == 2);
    CHECK(llm::model::argmax(std::vector<float>{NAN, -3.0f}) == 1);
    CHECK_THROWS_WITH_AS(llm::model::argmax(std::vector<float>{NAN, NAN}), doctest::Contains("NaN"), ptxsmith::Error);
}

TEST_CASE("top-k 1 is greedy whatever the temperature and seed") {
    std::mt19937 rng(std::random_device{}());
    for (int round = 0; round < 20; ++round) {
        const std::vector<float> l = random_logits(rng, 500);
        SamplerSettings s = plain(rng());
        s.top_k = 1;
        s.temperature = 2.5f;
        Sampler sampler(s);
        CHECK(sampler.sample(l) == llm::model::argmax(l));
    }
}

TEST_CASE("the same seed and settings give the same tokens; reset starts over") {
    std::mt19937 rng(std::random_device{}());
    std::vector<std::vector<float>> rows;
    for (int i = 0; i < 50; ++i) rows.push_back(random_logits(rng, 300));
    SamplerSettings s;  // the defaults: temperature, top-k, top-p, min-p all on
    s.temperature = 1.5f;
    s.repeat_penalty = 1.3f;
    s.seed = rng();
    const auto run = [&](Sampler& sampler) {
        std::vector<int32_t> out;
        for (const auto& r : rows) {
            out.push_back(sampler.sample(r));
            sampler.accept(out.back());
        }
        return out;
    };
    Sampler a(s), b(s);
    const std::vector<int32_t> first = run(a);
    CHECK(run(b) == first);
    a.reset();
    CHECK(run(a) == first);
    s.seed += 1;
    Sampler c(s);
    CHECK(run(c) != first);  // 50 draws from broad distributions: equal by chance is negligible
}

TEST_CASE("the generator's stream is fixed for a seed") {
    llm::model::Xoshiro256 a(42), b(42), c(43);
    for (int i = 0; i < 100; ++i) {
        const uint64_t x = a.next();
        CHECK(x == b.next());
        CHECK(x != c.next());
    }
    for (int i = 0; i < 1000; ++i) {
        const double u = a.uniform();
        CHECK(u >= 0.0);
        CHECK(u < 1.0);
    }
}

TEST_CASE("unfiltered sampling follows the softmax of the logits over temperature") {
    const std::vector<double> p = {0.5, 0.3, 0.15, 0.05};
    SamplerSettings s = plain(std::random_device{}());
    Sampler sampler(s);
    const int draws = 20000;
    const auto h = histogram(sampler, logits_of(p), draws);
    for (size_t i = 0; i < p.size(); ++i) {
        const double freq = static_cast<double>(h.count(static_cast<int32_t>(i)) ? h.at(static_cast<int32_t>(i)) : 0) / draws;
        CHECK(std::abs(freq - p[i]) < 0.02);  // about 6 standard deviations
    }
    // Temperature 0.5 squares the odds: p^2 normalised.
    s.temperature = 0.5f;
    Sampler cold(s);
    const auto hc = histogram(cold, logits_of(p), draws);
    double z = 0;
    for (const double q : p) z += q * q;
    CHECK(std::abs(static_cast<double>(hc.at(0)) / draws - 0.25 / z) < 0.02);
}

TEST_CASE("top-k, top-p and min-p exclude the tokens they should") {
    const std::vector<double> p = {0.05, 0.5, 0.15, 0.3};  // by rank: 1, 3, 2, 0
    const std::vector<float> l = logits_of(p);
    const uint64_t seed = std::random_device{}();
    SUBCASE("top-k 2 keeps the two most likely") {
        SamplerSettings s = plain(seed);
        s.top_k = 2;
        Sampler sampler(s);
        const auto h = histogram(sampler, l, 4000);
        CHECK(h.size() == 2);
        CHECK(h.count(1) == 1);
        CHECK(h.count(3) == 1);
    }
    SUBCASE("top-p 0.7 keeps the prefix whose mass first reaches 0.7") {
        SamplerSettings s = plain(seed);
        s.top_p = 0.7f;
        Sampler sampler(s);
        const auto h = histogram(sampler, l, 4000);
        CHECK(h.size() == 2);
        CHECK(h.count(1) == 1);
        CHECK(h.count(3) == 1);
        // 0.8 needs the third token too, not the fourth.
        s.top_p = 0.85f;
        Sampler wider(s);
        const auto hw = histogram(wider, l, 4000);
        CHECK(hw.size() == 3);
        CHECK(hw.count(0) == 0);
    }
    SUBCASE("top-p measures mass within what top-k kept") {
        SamplerSettings s = plain(seed);
        s.top_k = 2;     // keeps 0.5 and 0.3: renormalised 0.625 and 0.375
        s.top_p = 0.6f;  // reached by the first alone
        Sampler sampler(s);
        const auto h = histogram(sampler, l, 1000);
        CHECK(h.size() == 1);
        CHECK(h.count(1) == 1);
    }
    SUBCASE("min-p 0.4 drops tokens under 0.4 times the top probability") {
        SamplerSettings s = plain(seed);
        s.min_p = 0.4f;  // threshold 0.2: keeps 0.5 and 0.3
        Sampler sampler(s);
        const auto h = histogram(sampler, l, 4000);
        CHECK(h.size() == 2);
        CHECK(h.count(1) == 1);
        CHECK(h.count(3) == 1);
    }
    SUBCASE("the filters apply before temperature") {
        SamplerSettings s = plain(seed);
        s.min_p = 0.4f;
        s.temperature = 50.0f;  // flattens the survivors but brings nothing back
        Sampler sampler(s);
        const auto h = histogram(sampler, l, 4000);
        CHECK(h.size() == 2);
        CHECK(h.count(0) == 0);
        CHECK(h.count(2) == 0);
    }
}

TEST_CASE("the repetition penalty lowers recent tokens") {
    std::vector<float> l = {2.0f, -1.0f, 0.5f, 3.0f};
    llm::model::apply_repeat_penalty(l, std::vector<int32_t>{0, 1, 0, 99}, 2.0f);
    CHECK(l[0] == 1.0f);    // positive: divided, once although it appears twice
    CHECK(l[1] == -2.0f);   // negative: multiplied
    CHECK(l[2] == 0.5f);
    CHECK(l[3] == 3.0f);

    // Greedy would pick token 3; after it has been seen, the penalty hands the pick to token 0.
    SamplerSettings s;
    s.temperature = 0.0f;
    s.repeat_penalty = 2.0f;
    s.repeat_last_n = 2;
    Sampler sampler(s);
    const std::vector<float> logits = {2.0f, -1.0f, 0.5f, 3.0f};
    CHECK(sampler.sample(logits) == 3);
    sampler.accept(3);
    CHECK(sampler.sample(logits) == 0);
    // Only the last repeat_last_n tokens count: two more push token 3 out of the window.
    sampler.accept(1);
    sampler.accept(2);
    CHECK(sampler.sample(logits) == 3);
}

TEST_CASE("sampler settings out of range are refused") {
    const auto bad = [](auto change) {
        SamplerSettings s;
        change(s);
        CHECK_THROWS_AS(s.validate(), ptxsmith::Error);
    };
    bad([](SamplerSettings& s) { s.top_k = -1; });
    bad([](SamplerSettings& s) { s.top_p = 0.0f; });
    bad([](SamplerSettings& s) { s.top_p = 1.5f; });
    bad([](SamplerSettings& s) { s.min_p = -0.1f; });
    bad([](SamplerSettings& s) { s.repeat_penalty = 0.0f; });
    bad([](SamplerSettings& s) { s.temperature = NAN; });
    bad([](SamplerSettings& s) { s.repeat_last_n = -2; });
    Sampler ok{SamplerSettings{}};
    CHECK_THROWS_AS(ok.sample(std::vector<float>{}), ptxsmith::Error);
    CHECK_THROWS_AS(ok.sample(std::vector<float>{1.0f, NAN}), ptxsmith::Error);
}
