// The model maker: presets, the Q4_K_M rule, the files it writes (read back through our reader),
// the values in them, determinism, and the vocabulary it builds.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "gguf/gguf.hpp"
#include "model/hparams.hpp"
#include "model/maker.hpp"
#include "model/maker_pool.hpp"
#include "test_tokenizer_support.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;
using namespace llm::model;
using kernels::quant::GgmlType;

namespace {

// A folder of this test process's own, removed at the end.
struct TempDir {
    fs::path path;
    TempDir() : path(fs::path(PTXSMITH_BINARY_DIR) / fmt::format("maker_test_{}", ::getpid())) { fs::create_directories(path); }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

std::vector<uint8_t> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string make(const TempDir& dir, const std::string& preset, const std::string& quant, uint64_t seed, unsigned threads,
                 const std::string& name) {
    MakerOptions o;
    o.preset = preset;
    o.quant = quant;
    o.seed = seed;
    o.threads = threads;
    const std::string path = dir.file(name);
    make_model(o, path);
    return path;
}

// The tokenizer keys of a file, read by hand (independent of the loader's own reading).
llm::VocabData vocab_of(const llm::gguf::Reader& r) {
    llm::VocabData d;
    d.model = r.get<std::string>("tokenizer.ggml.model");
    d.pre = r.get<std::string>("tokenizer.ggml.pre");
    d.tokens = r.get_strings("tokenizer.ggml.tokens");
    d.token_types = r.get_i32s("tokenizer.ggml.token_type");
    d.merges = r.get_strings("tokenizer.ggml.merges");
    d.bos = r.get<int32_t>("tokenizer.ggml.bos_token_id");
    d.eos = r.get<int32_t>("tokenizer.ggml.eos_token_id");
    d.eot = r.get<int32_t>("tokenizer.ggml.eot_token_id");
    d.add_bos = r.get<bool>("tokenizer.ggml.add_bos_token");
    d.add_eos = r.get<bool>("tokenizer.ggml.add_eos_token");
    return d;
}

std::set<uint32_t> layers_with(const std::vector<TensorPlan>& plans, const std::string& role, GgmlType type, uint32_t n_layer) {
    std::set<uint32_t> out;
    for (uint32_t l = 0; l < n_layer; ++l) {
        const std::string name = tensor_name(role, static_cast<int>(l));
        const auto it = std::find_if(plans.begin(), plans.end(), [&](const TensorPlan& t) { return t.name == name; });
        REQUIRE(it != plans.end());
        if (it->type == type) out.insert(l);
    }
    return out;
}

}  // namespace

TEST_CASE("maker: the presets have the shapes of the models they imitate") {
    const ModelPreset& tiny = find_preset("tiny");
    CHECK(tiny.n_layer == 2);
    CHECK(tiny.n_embd == 256);
    CHECK(tiny.n_head == 4);
    CHECK(tiny.head_dim() == 64);
    CHECK(tiny.n_head_kv == 2);
    CHECK(tiny.n_ff == 768);
    CHECK(tiny.n_vocab == 512);
    CHECK(tiny.n_ctx == 2048);

    const ModelPreset& b1 = find_preset("1b");
    CHECK(b1.n_layer == 16);
    CHECK(b1.n_embd == 2048);
    CHECK(b1.n_head == 32);
    CHECK(b1.n_head_kv == 8);
    CHECK(b1.head_dim() == 64);
    CHECK(b1.n_ff == 8192);
    CHECK(b1.n_vocab == 128256);
    CHECK(b1.tied_output);
    CHECK(b1.rope_base == 500000.0f);
    CHECK(b1.n_ctx == 131072);

    const ModelPreset& b8 = find_preset("8b");
    CHECK(b8.n_layer == 32);
    CHECK(b8.n_embd == 4096);
    CHECK(b8.n_head == 32);
    CHECK(b8.n_head_kv == 8);
    CHECK(b8.head_dim() == 128);
    CHECK(b8.n_ff == 14336);
    CHECK(b8.n_vocab == 128256);
    CHECK_FALSE(b8.tied_output);
    CHECK(b8.n_ctx == 8192);

    CHECK_THROWS_WITH_AS(find_preset("70b"), doctest::Contains("tiny, 1b, 8b"), ptxsmith::Error);
    CHECK_THROWS_WITH_AS(find_quant_mix("q2_k"), doctest::Contains("q4_k_m, q4_k, q6_k, q8_0, f16"), ptxsmith::Error);
}

TEST_CASE("maker: Q4_K_M keeps Q6_K for attn_v and ffn_down on llama.cpp's layers") {
    // 32 layers: the first and last four, and every third layer from 6 to 27.
    const std::set<uint32_t> expected32{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
    const auto p8 = plan_tensors(find_preset("8b"), QuantMix::q4_k_m);
    CHECK(layers_with(p8, "attn_v", GgmlType::q6_k, 32) == expected32);
    CHECK(layers_with(p8, "ffn_down", GgmlType::q6_k, 32) == expected32);
    for (uint32_t l = 0; l < 32; ++l) CHECK(uses_more_bits(l, 32) == (expected32.count(l) == 1));
    for (const char* role : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"}) {
        CHECK(layers_with(p8, role, GgmlType::q4_k, 32).size() == 32);
    }
    CHECK(layers_with(p8, "attn_norm", GgmlType::f32, 32).size() == 32);
    CHECK(layers_with(p8, "ffn_norm", GgmlType::f32, 32).size() == 32);
    CHECK(tensor_type(QuantMix::q4_k_m, "output", 0, 32, false) == GgmlType::q6_k);
    CHECK(tensor_type(QuantMix::q4_k_m, "token_embd", 0, 32, false) == GgmlType::q4_k);
    CHECK(tensor_type(QuantMix::q4_k_m, "output_norm", 0, 32, false) == GgmlType::f32);

    // 16 layers (1b): two at each end, then 4, 7, 10, 13; the tied token_embd is the output.
    const auto p1 = plan_tensors(find_preset("1b"), QuantMix::q4_k_m);
    CHECK(layers_with(p1, "attn_v", GgmlType::q6_k, 16) == std::set<uint32_t>{0, 1, 4, 7, 10, 13, 14, 15});
    CHECK(p1.front().name == "token_embd.weight");
    CHECK(p1.front().type == GgmlType::q6_k);
    CHECK(std::none_of(p1.begin(), p1.end(), [](const TensorPlan& t) { return t.name == "output.weight"; }));

    // Uniform mixes: every matrix in the type, norms F32.
    for (const auto& [mix, type] : {std::pair{QuantMix::q4_k, GgmlType::q4_k}, std::pair{QuantMix::q6_k, GgmlType::q6_k},
                                    std::pair{QuantMix::q8_0, GgmlType::q8_0}, std::pair{QuantMix::f16, GgmlType::f16}}) {
        for (const TensorPlan& t : plan_tensors(find_preset("8b"), mix)) {
            CHECK(t.type == (t.ne.size() == 1 ? GgmlType::f32 : type));
        }
    }

    // The 8b in Q4_K_M is about 4.9 GB, as llama.cpp's own is.
    uint64_t bytes = 0;
    for (const TensorPlan& t : p8) bytes += llm::gguf::tensor_bytes(t.type, t.ne);
    CHECK(bytes > 4'800'000'000ull);
    CHECK(bytes < 5'000'000'000ull);
}

TEST_CASE("maker: the tiny model reads back with every tensor's type and shape, for each mix") {
    const TempDir dir;
    const ModelPreset& p = find_preset("tiny");
    for (const QuantMixInfo& mix : quant_mixes()) {
        CAPTURE(mix.name);
        const std::string path = make(dir, "tiny", std::string(mix.name), 7, 0, fmt::format("tiny_{}.gguf", mix.name));
        const auto r = llm::gguf::Reader::open(path);

        CHECK(r.get<std::string>("general.architecture") == "llama");
        CHECK(r.find("general.file_type")->type == llm::gguf::ValueType::u32);
        CHECK(r.get<uint32_t>("general.file_type") == mix.file_type);
        for (const char* key : {"llama.context_length", "llama.embedding_length", "llama.block_count",
                                "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
                                "llama.rope.dimension_count", "llama.vocab_size"}) {
            CAPTURE(key);
            REQUIRE(r.find(key) != nullptr);
            CHECK(r.find(key)->type == llm::gguf::ValueType::u32);
        }
        CHECK(r.find("llama.attention.layer_norm_rms_epsilon")->type == llm::gguf::ValueType::f32);
        CHECK(r.get<float>("llama.attention.layer_norm_rms_epsilon") == 1e-5f);
        CHECK(r.get<uint32_t>("llama.rope.dimension_count") == 64);

        const HParams h = HParams::from_gguf(r);
        CHECK(h.n_layer == 2);
        CHECK(h.n_embd == 256);
        CHECK(h.n_head == 4);
        CHECK(h.n_head_kv == 2);
        CHECK(h.head_dim == 64);
        CHECK(h.n_rot == 64);
        CHECK(h.n_ff == 768);
        CHECK(h.n_vocab == 512);
        CHECK(h.n_ctx_train == 2048);
        CHECK(h.rope_base == 500000.0f);
        CHECK_FALSE(h.tied_output);

        const auto plans = plan_tensors(p, mix.mix);
        REQUIRE(r.tensors().size() == plans.size());
        CHECK(plans.size() == 2 + 9 * 2 + 1);
        for (size_t i = 0; i < plans.size(); ++i) {
            const auto& t = r.tensors()[i];
            CAPTURE(t.name);
            CHECK(t.name == plans[i].name);
            CHECK(t.ne == plans[i].ne);
            CHECK(t.type == plans[i].type);
        }
        const auto shape = [&](const std::string& name) { return r.find_tensor(name)->ne; };
        CHECK(shape("token_embd.weight") == std::vector<uint64_t>{256, 512});
        CHECK(shape("blk.0.attn_q.weight") == std::vector<uint64_t>{256, 256});
        CHECK(shape("blk.0.attn_k.weight") == std::vector<uint64_t>{256, 128});
        CHECK(shape("blk.1.attn_v.weight") == std::vector<uint64_t>{256, 128});
        CHECK(shape("blk.1.attn_output.weight") == std::vector<uint64_t>{256, 256});
        CHECK(shape("blk.0.ffn_gate.weight") == std::vector<uint64_t>{256, 768});
        CHECK(shape("blk.0.ffn_up.weight") == std::vector<uint64_t>{256, 768});
        CHECK(shape("blk.1.ffn_down.weight") == std::vector<uint64_t>{768, 256});
        CHECK(shape("output.weight") == std::vector<uint64_t>{256, 512});
        CHECK(shape("output_norm.weight") == std::vector<uint64_t>{256});
        CHECK(r.find_tensor("blk.1.attn_norm.weight")->type == GgmlType::f32);
        if (mix.mix == QuantMix::q4_k_m) {
            // Two layers: only the last one is in the last eighth.
            CHECK(r.find_tensor("blk.0.attn_v.weight")->type == GgmlType::q4_k);
            CHECK(r.find_tensor("blk.1.attn_v.weight")->type == GgmlType::q6_k);
            CHECK(r.find_tensor("blk.0.ffn_down.weight")->type == GgmlType::q4_k);
            CHECK(r.find_tensor("blk.1.ffn_down.weight")->type == GgmlType::q6_k);
            CHECK(r.find_tensor("output.weight")->type == GgmlType::q6_k);
            CHECK(r.find_tensor("token_embd.weight")->type == GgmlType::q4_k);
        }
    }
}

TEST_CASE("maker: the values in the file are the planned ones, quantised within the format's error") {
    const TempDir dir;
    struct Bound {
        GgmlType type;
        double max_relative_rms;   // RMS error / RMS of the values, over a whole tensor
    };
    // On the maker's values Q4_K comes to about 0.068, Q6_K 0.016, Q8_0 0.005, F16 2e-4.
    const std::vector<std::pair<std::string, Bound>> mixes{
        {"q4_k", {GgmlType::q4_k, 0.085}}, {"q6_k", {GgmlType::q6_k, 0.022}},
        {"q8_0", {GgmlType::q8_0, 0.0075}}, {"f16", {GgmlType::f16, 4e-4}}};
    const uint64_t seed = std::random_device{}();
    CAPTURE(seed);
    for (const auto& entry : mixes) {
        const std::string& mix = entry.first;  // not a structured binding: CAPTURE's lambda refers to it
        const Bound& bound = entry.second;
        CAPTURE(mix);
        const auto r = llm::gguf::Reader::open(make(dir, "tiny", mix, seed, 0, mix + ".gguf"));
        for (const TensorPlan& t : plan_tensors(find_preset("tiny"), find_quant_mix(mix).mix)) {
            CAPTURE(t.name);
            const auto* info = r.find_tensor(t.name);
            REQUIRE(info != nullptr);
            const auto n = static_cast<int64_t>(t.elements());
            std::vector<float> planned(static_cast<size_t>(n));
            generate_rows(t, seed, 0, t.rows(), planned.data());
            const std::vector<float> got = kernels::quant::dequantize(info->type, r.tensor_data(*info), n);

            double err = 0, sum = 0, sum2 = 0;
            for (int64_t i = 0; i < n; ++i) {
                const double x = planned[static_cast<size_t>(i)];
                err += (got[static_cast<size_t>(i)] - x) * (got[static_cast<size_t>(i)] - x);
                sum += x;
                sum2 += x * x;
            }
            const double mean = sum / static_cast<double>(n);
            const double sd = std::sqrt(sum2 / static_cast<double>(n) - mean * mean);
            if (t.type == GgmlType::f32) {
                CHECK(err == 0);          // norms are stored as generated
                CHECK(mean == doctest::Approx(1.0).epsilon(0.01));
            } else {
                CHECK(t.type == bound.type);
                CHECK(std::sqrt(err / sum2) < bound.max_relative_rms);
                CHECK(std::abs(mean) < 0.05 * t.stddev);
            }
            // The generator's spread is the planned one, within five standard errors of a sample's sd.
            CHECK(sd == doctest::Approx(t.stddev).epsilon(0.01 + 5.0 / std::sqrt(2.0 * static_cast<double>(n))));
        }
    }
}

TEST_CASE("maker: rows are generated from (seed, name, row) alone") {
    const TensorPlan t{"blk.0.attn_q.weight", {256, 40}, GgmlType::q4_k, 0.0f, 0.1f};
    std::vector<float> all(256 * 40), part(256 * 7);
    generate_rows(t, 99, 0, 40, all.data());
    generate_rows(t, 99, 13, 7, part.data());
    CHECK(std::equal(part.begin(), part.end(), all.begin() + 13 * 256));
    TensorPlan renamed = t;
    renamed.name = "blk.1.attn_q.weight";
    generate_rows(renamed, 99, 13, 7, part.data());
    CHECK_FALSE(std::equal(part.begin(), part.end(), all.begin() + 13 * 256));
    generate_rows(t, 100, 13, 7, part.data());
    CHECK_FALSE(std::equal(part.begin(), part.end(), all.begin() + 13 * 256));
    // Bounded tails: the Irwin-Hall variate stays within 3.47 standard deviations.
    CHECK(*std::max_element(all.begin(), all.end()) <= 0.347f);
    CHECK(*std::min_element(all.begin(), all.end()) >= -0.347f);
}

TEST_CASE("maker: the same seed gives the same file byte for byte, whatever the thread count") {
    const TempDir dir;
    const uint64_t seed = std::random_device{}();
    CAPTURE(seed);
    const auto one = file_bytes(make(dir, "tiny", "q4_k_m", seed, 1, "a.gguf"));
    const auto three = file_bytes(make(dir, "tiny", "q4_k_m", seed, 3, "b.gguf"));
    const auto again = file_bytes(make(dir, "tiny", "q4_k_m", seed, 0, "c.gguf"));
    CHECK(one.size() > 1'000'000);
    CHECK(one == three);
    CHECK(one == again);

    // Another seed changes every tensor.
    const auto a = llm::gguf::Reader::open(dir.file("a.gguf"));
    const auto b = llm::gguf::Reader::open(make(dir, "tiny", "q4_k_m", seed + 1, 2, "d.gguf"));
    for (const auto& t : a.tensors()) {
        CAPTURE(t.name);
        const auto x = a.tensor_data(t), y = b.tensor_data(*b.find_tensor(t.name));
        CHECK_FALSE(std::equal(x.begin(), x.end(), y.begin(), y.end()));
    }
}

TEST_CASE("maker: the file's vocabulary makes a tokenizer that round-trips any text") {
    const TempDir dir;
    const auto r = llm::gguf::Reader::open(make(dir, "tiny", "q8_0", 1, 0, "vocab.gguf"));
    const llm::VocabData d = vocab_of(r);
    CHECK(d.model == "gpt2");
    CHECK(d.pre == "llama-bpe");
    CHECK(d.tokens.size() == 512);
    CHECK(d.tokens[static_cast<size_t>(d.bos)] == "<|begin_of_text|>");
    CHECK(d.tokens[static_cast<size_t>(d.eos)] == "<|end_of_text|>");
    CHECK(d.tokens[static_cast<size_t>(d.eot)] == "<|eot_id|>");
    CHECK(d.add_bos);
    const auto tok = llm::Tokenizer::create(d);

    const uint32_t seed = tokenizer_test::fresh_seed();
    CAPTURE(seed);
    std::mt19937 rng(seed);
    for (int i = 0; i < 200; ++i) {
        const std::string text = i % 2 ? tokenizer_test::random_text(rng, 80) : tokenizer_test::random_bytes(rng, 80);
        const auto ids = tok->encode(text, true, false);
        REQUIRE(!ids.empty());
        CHECK(ids.front() == d.bos);
        CHECK(tok->decode(ids) == text);
    }
    // English uses the merged tokens: fewer tokens than bytes.
    const std::string english = "The baker lit the ovens before the ferry left the harbour.";
    const auto ids = tok->encode(english, false);
    CHECK(ids.size() < english.size() / 2);
    CHECK(tok->decode(ids) == english);
    // Special tokens are recognised in text.
    CHECK(tok->encode("<|eot_id|>", false) == std::vector<int32_t>{d.eot});
}

TEST_CASE("maker: the 128256-token vocabulary is unique, its merges are valid, and it round-trips") {
    const llm::VocabData d = make_vocab(128256);
    REQUIRE(d.tokens.size() == 128256);
    CHECK(d.token_types.size() == d.tokens.size());
    std::unordered_set<std::string> seen(d.tokens.begin(), d.tokens.end());
    CHECK(seen.size() == d.tokens.size());
    for (int b = 0; b < 256; ++b) CHECK(d.tokens[static_cast<size_t>(b)] == llm::byte_level_encode(std::string(1, static_cast<char>(b))));
    CHECK(d.merges.size() >= d.tokens.size() - 259);
    for (const std::string& m : d.merges) {
        const size_t space = m.find(' ');
        REQUIRE(space != std::string::npos);
        const std::string left = m.substr(0, space), right = m.substr(space + 1);
        REQUIRE(seen.count(left) == 1);
        REQUIRE(seen.count(right) == 1);
        REQUIRE(seen.count(left + right) == 1);
    }
    CHECK(d.bos == 128253);
    CHECK(d.eos == 128254);
    CHECK(d.eot == 128255);
    for (int32_t id : {d.bos, d.eos, d.eot}) CHECK(d.token_types[static_cast<size_t>(id)] == static_cast<int32_t>(llm::TokenType::control));
    CHECK(make_vocab(128256).merges == d.merges);  // deterministic

    const auto tok = llm::Tokenizer::create(d);
    const uint32_t seed = tokenizer_test::fresh_seed();
    CAPTURE(seed);
    std::mt19937 rng(seed);
    for (int i = 0; i < 100; ++i) {
        const std::string text = tokenizer_test::random_text(rng, 120);
        CHECK(tok->decode(tok->encode(text, false, false)) == text);
    }
    CHECK_THROWS_AS(make_vocab(258), ptxsmith::Error);
}

TEST_CASE("maker: the worker pool runs each item once and passes on a task's exception") {
    WorkerPool pool(3);
    CHECK(pool.threads() == 3);
    for (size_t count : {size_t{0}, size_t{1}, size_t{1000}}) {
        std::vector<std::atomic<int>> hits(count);
        std::atomic<unsigned> max_thread{0};
        pool.run(count, [&](size_t i, unsigned thread) {
            unsigned seen = max_thread.load();
            while (thread > seen && !max_thread.compare_exchange_weak(seen, thread)) {
            }
            ++hits[i];
        });
        CHECK(max_thread.load() < 3);
        CHECK(std::all_of(hits.begin(), hits.end(), [](const std::atomic<int>& h) { return h.load() == 1; }));
    }
    CHECK_THROWS_WITH_AS(pool.run(100, [](size_t i, unsigned) {
        if (i == 42) throw std::runtime_error("item 42 failed");
    }),
                         "item 42 failed", std::runtime_error);
    std::atomic<size_t> after{0};
    pool.run(10, [&](size_t, unsigned) { ++after; });
    CHECK(after == 10);
}

TEST_CASE("maker: a failed write leaves no file behind") {
    const TempDir dir;
    MakerOptions o;
    o.preset = "tiny";
    CHECK_THROWS_AS(make_model(o, dir.file("no/such/folder/x.gguf")), ptxsmith::Error);
    o.quant = "q3_k";
    CHECK_THROWS_AS(make_model(o, dir.file("x.gguf")), ptxsmith::Error);
    CHECK_FALSE(fs::exists(dir.file("x.gguf")));
}
