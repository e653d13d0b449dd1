// HParams from hand-written GGUF metadata: the llama and qwen2 rows of the architecture table,
// defaults, integer widths, tied output and vocabulary detection, and the errors.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "gguf/gguf.hpp"
#include "model/hparams.hpp"

using namespace llm::model;
using llm::gguf::Reader;
using llm::gguf::Value;
using llm::gguf::Writer;
using kernels::quant::GgmlType;

namespace {

// A llama-like model's metadata (8 heads of 32 over a width of 256, 2 KV heads) and, unless
// `tied`, an output tensor; tests add or replace keys.
Writer base(const std::string& arch, bool tied = false) {
    Writer w;
    w.set("general.architecture", Value::string(arch));
    w.set("general.name", Value::string("hand-written"));
    w.set(arch + ".context_length", Value::u32(4096));
    w.set(arch + ".embedding_length", Value::u32(256));
    w.set(arch + ".block_count", Value::u32(3));
    w.set(arch + ".feed_forward_length", Value::u32(768));
    w.set(arch + ".attention.head_count", Value::u32(8));
    w.set(arch + ".attention.head_count_kv", Value::u32(2));
    w.set("tokenizer.ggml.tokens", Value::strings({"a", "b", "c", "d", "e"}));
    w.add_tensor("token_embd.weight", {256, 5}, GgmlType::f32, std::vector<uint8_t>(256 * 5 * 4));
    if (!tied) w.add_tensor("output.weight", {256, 5}, GgmlType::f32, std::vector<uint8_t>(256 * 5 * 4));
    return w;
}

HParams read(const Writer& w) {
    const std::vector<uint8_t> bytes = w.to_bytes();
    const Reader r = Reader::parse(bytes, "hand.gguf");
    return HParams::from_gguf(r);
}

// A copy of `w`'s content without `key` (Writer has no erase: rebuild from its bytes).
Writer without(const Writer& w, const std::string& key) {
    const std::vector<uint8_t> bytes = w.to_bytes();
    const Reader r = Reader::parse(bytes, "hand.gguf");
    Writer out;
    for (const auto& [k, v] : r.metadata()) {
        if (k != key) out.set(k, v);
    }
    for (const auto& t : r.tensors()) {
        const auto data = r.tensor_data(t);
        out.add_tensor(t.name, t.ne, t.type, std::vector<uint8_t>(data.begin(), data.end()));
    }
    return out;
}

}  // namespace

TEST_CASE("hparams: the architecture table has llama (normal rope) and qwen2 (neox rope, biases)") {
    REQUIRE(architectures().size() == 2);
    const ArchInfo* llama = find_architecture("llama");
    const ArchInfo* qwen2 = find_architecture("qwen2");
    REQUIRE(llama != nullptr);
    REQUIRE(qwen2 != nullptr);
    CHECK(llama->rope_style == RopeStyle::normal);
    CHECK_FALSE(llama->qkv_bias);
    CHECK(qwen2->rope_style == RopeStyle::neox);
    CHECK(qwen2->qkv_bias);
    CHECK(find_architecture("gemma") == nullptr);
    CHECK(std::string(rope_style_name(RopeStyle::neox)) == "neox");
}

TEST_CASE("hparams: a llama file with only the required keys takes the defaults") {
    const HParams h = read(base("llama"));
    CHECK(h.arch == "llama");
    CHECK(h.name == "hand-written");
    CHECK(h.rope_style == RopeStyle::normal);
    CHECK_FALSE(h.qkv_bias);
    CHECK(h.n_ctx_train == 4096);
    CHECK(h.n_embd == 256);
    CHECK(h.n_layer == 3);
    CHECK(h.n_ff == 768);
    CHECK(h.n_head == 8);
    CHECK(h.n_head_kv == 2);
    CHECK(h.gqa_group() == 4);
    CHECK(h.head_dim == 32);       // embedding / heads
    CHECK(h.head_dim_v == 32);
    CHECK(h.n_rot == 32);          // the whole head
    CHECK(h.q_dim() == 256);
    CHECK(h.kv_dim() == 64);
    CHECK(h.norm_eps == 1e-5f);
    CHECK(h.rope_base == 10000.0f);
    CHECK(h.rope_scaling_type.empty());
    CHECK(h.n_vocab == 5);         // the token list's length
    CHECK_FALSE(h.tied_output);

    // No head_count_kv: one KV head per query head.
    const HParams mha = read(without(base("llama"), "llama.attention.head_count_kv"));
    CHECK(mha.n_head_kv == 8);
    CHECK(mha.gqa_group() == 1);
}

TEST_CASE("hparams: explicit keys win, in u32 or u64") {
    Writer w = base("llama", true);
    w.set("llama.block_count", Value::u64(16));
    w.set("llama.attention.key_length", Value::u64(64));
    w.set("llama.attention.value_length", Value::u32(48));
    w.set("llama.rope.dimension_count", Value::u32(32));
    w.set("llama.attention.layer_norm_rms_epsilon", Value::f32(1e-6f));
    w.set("llama.rope.freq_base", Value::f32(500000.0f));
    w.set("llama.rope.scaling.type", Value::string("linear"));
    w.set("llama.rope.scaling.factor", Value::f32(4.0f));
    w.set("llama.vocab_size", Value::u32(128256));
    const HParams h = read(w);
    CHECK(h.n_layer == 16);
    CHECK(h.head_dim == 64);
    CHECK(h.head_dim_v == 48);
    CHECK(h.q_dim() == 512);
    CHECK(h.v_dim() == 96);
    CHECK(h.n_rot == 32);
    CHECK(h.norm_eps == 1e-6f);
    CHECK(h.rope_base == 500000.0f);
    CHECK(h.rope_scaling_type == "linear");
    CHECK(h.rope_scaling_factor == 4.0f);
    CHECK(h.n_vocab == 128256);    // the key wins over the token list
    CHECK(h.tied_output);          // no output.weight
}

TEST_CASE("hparams: qwen2 rotates neox-style, has Q/K/V biases and its own defaults") {
    Writer w = base("qwen2");
    w.set("qwen2.attention.key_length", Value::u32(64));  // not embedding / heads
    const HParams h = read(w);
    CHECK(h.arch == "qwen2");
    CHECK(h.rope_style == RopeStyle::neox);
    CHECK(h.qkv_bias);
    CHECK(h.head_dim == 64);
    CHECK(h.n_rot == 64);
    CHECK(h.norm_eps == 1e-6f);
    CHECK(h.rope_base == 1000000.0f);
    // Keys of another architecture are not read: llama.* means nothing to a qwen2 file.
    Writer mixed = without(base("qwen2"), "qwen2.block_count");
    mixed.set("llama.block_count", Value::u32(3));
    CHECK_THROWS_WITH_AS(read(mixed), doctest::Contains("qwen2.block_count is missing"), ptxsmith::Error);
}

TEST_CASE("hparams: the vocabulary size comes from the key, the tokens, or token_embd") {
    Writer no_tokens = without(base("llama"), "tokenizer.ggml.tokens");
    CHECK(read(no_tokens).n_vocab == 5);  // token_embd's rows
    Writer nothing;
    nothing.set("general.architecture", Value::string("llama"));
    for (const char* key : {"context_length", "embedding_length", "block_count", "feed_forward_length", "attention.head_count"}) {
        nothing.set(std::string("llama.") + key, Value::u32(64));
    }
    nothing.set("llama.attention.head_count", Value::u32(2));
    CHECK_THROWS_WITH_AS(read(nothing), doctest::Contains("cannot tell the vocabulary size"), ptxsmith::Error);
}

TEST_CASE("hparams: missing, zero and inconsistent values are clear errors naming the key") {
    for (const char* key : {"llama.context_length", "llama.embedding_length", "llama.block_count",
                            "llama.feed_forward_length", "llama.attention.head_count"}) {
        CAPTURE(key);
        const std::string expected = std::string("hand.gguf: metadata key ") + key + " is missing; a llama model needs it";
        CHECK_THROWS_WITH_AS(read(without(base("llama"), key)), doctest::Contains(expected.c_str()), ptxsmith::Error);
    }
    CHECK_THROWS_WITH_AS(read(without(base("llama"), "general.architecture")),
                         doctest::Contains("general.architecture is missing"), ptxsmith::Error);

    Writer gemma = base("gemma");
    CHECK_THROWS_WITH_AS(read(gemma), doctest::Contains("architecture 'gemma' (general.architecture) is not supported; supported: llama, qwen2"),
                         ptxsmith::Error);

    Writer zero = base("llama");
    zero.set("llama.block_count", Value::u32(0));
    CHECK_THROWS_WITH_AS(read(zero), doctest::Contains("llama.block_count is 0"), ptxsmith::Error);

    Writer huge = base("llama");
    huge.set("llama.feed_forward_length", Value::u64(uint64_t{1} << 40));
    CHECK_THROWS_WITH_AS(read(huge), doctest::Contains("llama.feed_forward_length"), ptxsmith::Error);

    Writer uneven = base("llama");
    uneven.set("llama.attention.head_count_kv", Value::u32(3));
    CHECK_THROWS_WITH_AS(read(uneven), doctest::Contains("8 heads cannot share 3 key/value heads"), ptxsmith::Error);

    Writer odd_rot = base("llama");
    odd_rot.set("llama.rope.dimension_count", Value::u32(31));
    CHECK_THROWS_WITH_AS(read(odd_rot), doctest::Contains("llama.rope.dimension_count = 31"), ptxsmith::Error);

    Writer indivisible = base("llama");
    indivisible.set("llama.attention.head_count", Value::u32(6));
    indivisible.set("llama.attention.head_count_kv", Value::u32(6));
    CHECK_THROWS_WITH_AS(read(indivisible), doctest::Contains("not a multiple of its 6 heads"), ptxsmith::Error);

    Writer wrong_type = base("llama");
    wrong_type.set("llama.block_count", Value::string("three"));
    CHECK_THROWS_WITH_AS(read(wrong_type), doctest::Contains("llama.block_count"), ptxsmith::Error);

    Writer negative_eps = base("llama");
    negative_eps.set("llama.attention.layer_norm_rms_epsilon", Value::f32(-1.0f));
    CHECK_THROWS_WITH_AS(read(negative_eps), doctest::Contains("must be positive"), ptxsmith::Error);
}

TEST_CASE("hparams: tensor names follow GGUF's llama convention") {
    CHECK(tensor_name("token_embd") == "token_embd.weight");
    CHECK(tensor_name("output") == "output.weight");
    CHECK(tensor_name("attn_q", 0) == "blk.0.attn_q.weight");
    CHECK(tensor_name("ffn_down", 31) == "blk.31.ffn_down.weight");
    CHECK(bias_name("attn_k", 2) == "blk.2.attn_k.bias");
}
