// Thread mapping: CTA (x, t) serves token t and head slots x*H .. x*H + H-1 (H = heads_per_cta());
// slots 0 .. q_heads-1 are query heads, the rest KV heads (each doing K and V). Thread (j, y) is
// rotation pair j of slot x*H + y: threads along x cover the head_dim/2 pairs, padded to whole
// warps, so no warp spans two slots and the Q/KV branch is uniform per warp.
// With bias, each pair's bias elements are loaded with the same access as its inputs (from the
// head's row of bq, bk or bv) and added (add.rn, never fused) before the rotation.
// Pair j < n_rot/2 rotates elements (2j, 2j+1) ("normal": one 8-byte load, one f32x2 or f16x2
// store per row, f16x2 for the caches and an f16 q_out) or (j, j + n_rot/2) ("neox": scalar
// accesses, consecutive across lanes); a pair j >= n_rot/2 is elements (2j, 2j+1) in both styles,
// copied with cos 1 and sin 0.
// Angles (no device ex2/lg2): thread (0, 0) stores each pair's turns per position, the 0.64
// fixed-point round(2^64 inv_freq_i / 2pi) computed on the host in double, into shared memory. After
// a barrier each thread multiplies its position by its pair's fraction modulo 2^64 (mul.lo.u64:
// the angle modulo one turn, exact up to the table's rounding, for any position), takes the top 32
// bits as a signed fraction of a turn in [-1/2, 1/2) and scales it by 2pi/2^32, so sin.approx and
// cos.approx only see arguments in [-pi, pi), where their absolute error is about 2^-21.
#include "kernels/rope_kv_scatter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <random>

#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"

namespace kernels {

using namespace ptxgen;

namespace {

constexpr FMode kRn{.round = Round::rn};
constexpr uint32_t kMaxHeadDim = 1024;
constexpr uint32_t kTargetThreads = 256;  // threads per CTA the slot count per CTA aims at

const char* style_word(RopeStyle s) { return s == RopeStyle::normal ? "normal" : "neox"; }

// A real number in a kernel name, every digit kept (shortest round-trip form): 0.5 -> "0p5".
std::string name_real(double v) {
    std::string out;
    for (char c : fmt::format("{}", v)) {
        if (c == '.') out += 'p';
        else if (c == '-') out += 'm';
        else if (c != '+') out += c;
    }
    return out;
}

struct Pair {
    Reg<f32> x0, x1;
};

}  // namespace

FamilyInfo RopeKvScatter::info() {
    return {"rope_kv_scatter",
            "RoPE on Q and K of new tokens (optionally biased first); K and V to the f16 cache "
            "[kv_heads][max_seq][head_dim] at positions from device memory; rotated Q out (f32 or f16)",
            {ParamSpec{"head-dim", ParamKind::integer, "elements per head (even)", "128", 2, kMaxHeadDim, {}},
             ParamSpec{"q-heads", ParamKind::integer, "query heads (a multiple of --kv-heads)", "32", 1, 1024, {}},
             ParamSpec{"kv-heads", ParamKind::integer, "KV heads", "8", 1, 1024, {}},
             ParamSpec{"tokens", ParamKind::integer, "new tokens (one CTA row each)", "1", 1, 65535, {}},
             ParamSpec{"max-seq", ParamKind::integer, "cache rows per KV head", "4096", 1, 1 << 20, {}},
             ParamSpec{"rope", ParamKind::choice, "pairs (x[2i], x[2i+1]) or (x[i], x[i + rot/2])", "normal", 0, 0,
                       {"normal", "neox"}},
             ParamSpec{"rot-dim", ParamKind::integer, "rotary dimensions (even; 0 = head-dim)", "0", 0, kMaxHeadDim, {}},
             ParamSpec{"base", ParamKind::real, "frequency base", "500000", 1, 1e12, {}},
             ParamSpec{"q-out", ParamKind::choice, "type of the rotated Q output (f16: round to nearest)", "f32", 0, 0,
                       {"f32", "f16"}},
             ParamSpec{"bias", ParamKind::integer, "1: add the f32 biases bq, bk, bv (arguments after v) first", "0", 0, 1,
                       {}}},
            {ParamValues{{"head-dim", "64"}, {"q-heads", "4"}, {"kv-heads", "1"}, {"tokens", "3"},
                         {"max-seq", "8192"}, {"rope", "normal"}},
             ParamValues{{"head-dim", "32"}, {"q-heads", "8"}, {"kv-heads", "1"}, {"tokens", "1"},
                         {"max-seq", "16"}, {"rope", "neox"}, {"rot-dim", "16"}, {"base", "10000"}},
             ParamValues{{"head-dim", "20"}, {"q-heads", "4"}, {"kv-heads", "2"}, {"tokens", "5"},
                         {"max-seq", "9"}, {"rope", "normal"}, {"rot-dim", "12"}, {"base", "10000"}},
             ParamValues{{"head-dim", "128"}, {"q-heads", "8"}, {"kv-heads", "2"}, {"tokens", "2"},
                         {"max-seq", "4096"}, {"rope", "neox"}, {"base", "1000000"}},
             ParamValues{{"head-dim", "6"}, {"q-heads", "2"}, {"kv-heads", "2"}, {"tokens", "4"},
                         {"max-seq", "4"}, {"rope", "neox"}, {"rot-dim", "4"}, {"base", "100"}},
             ParamValues{{"head-dim", "64"}, {"q-heads", "4"}, {"kv-heads", "2"}, {"tokens", "3"},
                         {"max-seq", "16"}, {"rope", "normal"}, {"q-out", "f16"}},
             ParamValues{{"head-dim", "32"}, {"q-heads", "4"}, {"kv-heads", "1"}, {"tokens", "2"},
                         {"max-seq", "8"}, {"rope", "neox"}, {"rot-dim", "16"}, {"base", "10000"}, {"bias", "1"}},
             ParamValues{{"head-dim", "20"}, {"q-heads", "4"}, {"kv-heads", "2"}, {"tokens", "3"},
                         {"max-seq", "9"}, {"rope", "normal"}, {"rot-dim", "12"}, {"base", "10000"}, {"bias", "1"},
                         {"q-out", "f16"}},
             ParamValues{{"head-dim", "64"}, {"q-heads", "14"}, {"kv-heads", "2"}, {"tokens", "2"},
                         {"max-seq", "32"}, {"rope", "neox"}, {"base", "1000000"}, {"bias", "1"}, {"q-out", "f16"}},
             ParamValues{{"head-dim", "6"}, {"q-heads", "2"}, {"kv-heads", "1"}, {"tokens", "2"},
                         {"max-seq", "4"}, {"rope", "normal"}, {"rot-dim", "2"}, {"base", "100"}, {"bias", "1"}}},
            {ParamValues{{"tokens", "512"}, {"max-seq", "8192"}},
             ParamValues{{"tokens", "1"}, {"max-seq", "8192"}},
             ParamValues{{"tokens", "512"}, {"max-seq", "8192"}, {"rope", "neox"}, {"base", "1000000"}},
             ParamValues{{"q-heads", "28"}, {"kv-heads", "4"}, {"tokens", "512"}, {"max-seq", "8192"}, {"rope", "neox"},
                         {"base", "1000000"}, {"bias", "1"}, {"q-out", "f16"}}}};
}

RopeKvScatter RopeKvScatter::from(const ParamValues& v) {
    RopeKvScatter f;
    f.head_dim = static_cast<uint32_t>(v.integer("head-dim"));
    f.q_heads = static_cast<uint32_t>(v.integer("q-heads"));
    f.kv_heads = static_cast<uint32_t>(v.integer("kv-heads"));
    f.tokens = static_cast<uint32_t>(v.integer("tokens"));
    f.max_seq = static_cast<uint32_t>(v.integer("max-seq"));
    f.style = v.text("rope") == "neox" ? RopeStyle::neox : RopeStyle::normal;
    f.rot_dim = static_cast<uint32_t>(v.integer("rot-dim"));
    f.base = v.real("base");
    f.q_out_f16 = v.text("q-out") == "f16";
    f.bias = v.integer("bias") != 0;
    if (f.head_dim % 2 != 0) throw ptxsmith::Error(fmt::format("rope_kv_scatter: --head-dim {} is not even", f.head_dim));
    if (f.rot_dim % 2 != 0 || f.rot_dim > f.head_dim) {
        throw ptxsmith::Error(fmt::format("rope_kv_scatter: --rot-dim {} must be even and at most --head-dim {}",
                                          f.rot_dim, f.head_dim));
    }
    if (f.q_heads % f.kv_heads != 0) {
        throw ptxsmith::Error(fmt::format("rope_kv_scatter: --q-heads {} is not a multiple of --kv-heads {}",
                                          f.q_heads, f.kv_heads));
    }
    if (f.tokens > f.max_seq) {
        throw ptxsmith::Error(fmt::format("rope_kv_scatter: --tokens {} exceeds --max-seq {}: each new token needs its "
                                          "own cache row", f.tokens, f.max_seq));
    }
    return f;
}

// The defaults (f32 q_out, no bias) add nothing, so names from before those parameters still hold.
std::string RopeKvScatter::name() const {
    return fmt::format("rope_kv_scatter_{}_d{}_r{}_q{}_kv{}_t{}_s{}_b{}{}{}", style_word(style), head_dim, n_rot(),
                       q_heads, kv_heads, tokens, max_seq, name_real(base), q_out_f16 ? "_qf16" : "",
                       bias ? "_bias" : "");
}

uint32_t RopeKvScatter::heads_per_cta() const {
    return std::clamp(kTargetThreads / lanes_per_head(), 1u, q_heads + kv_heads);
}

uint64_t RopeKvScatter::turns_fixed(uint32_t pair) const {
    const double inv_freq = std::pow(base, -2.0 * pair / n_rot());  // <= 1 since base >= 1
    return static_cast<uint64_t>(std::nearbyint(std::ldexp(inv_freq / (2 * std::numbers::pi), 64)));
}

BenchWork RopeKvScatter::bench_work() const {
    const uint64_t q = uint64_t{q_heads} * head_dim, kv = uint64_t{kv_heads} * head_dim;
    BenchWork w;
    w.bytes = uint64_t{tokens} * (q * (4 + (q_out_f16 ? 2 : 4)) + kv * (4 + 4) + kv * (2 + 2) + 4) + (bias ? (q + 2 * kv) * 4 : 0);
    w.what = fmt::format("{} tokens: q in and out, k and v in (f32), their f16 cache rows, the positions{}; not the whole caches",
                         tokens, bias ? ", the biases once" : "");
    return w;
}

std::string RopeKvScatter::notes() const {
    const LaunchConfig c = launch_config();
    return fmt::format("CTA {}x{} threads ({} head slots), grid {}x{}; {} accesses; angle from a 64-bit fixed-point "
                       "turn table in shared memory; {}q_out {}",
                       c.block[0], c.block[1], heads_per_cta(), c.grid[0], c.grid[1],
                       style == RopeStyle::normal ? "paired (8-byte f32, 4-byte f16)" : "scalar",
                       bias ? "Q/K/V biases added first; " : "", q_out_f16 ? "f16" : "f32");
}

Kernel RopeKvScatter::build(const Target& target) const {
    KernelBuilder b(name(), target);
    GlobalPtr q = b.param_ptr("q", Type::f32);
    GlobalPtr k = b.param_ptr("k", Type::f32);
    GlobalPtr v = b.param_ptr("v", Type::f32);
    std::optional<GlobalPtr> bq, bk, bv;
    if (bias) {
        bq = b.param_ptr("bq", Type::f32);
        bk = b.param_ptr("bk", Type::f32);
        bv = b.param_ptr("bv", Type::f32);
    }
    GlobalPtr positions = b.param_ptr("pos", Type::s32);
    GlobalPtr k_cache = b.param_ptr("k_cache", Type::f16);
    GlobalPtr v_cache = b.param_ptr("v_cache", Type::f16);
    GlobalPtr q_out = b.param_ptr("q_out", q_out_f16 ? Type::f16 : Type::f32);
    const uint32_t lanes = lanes_per_head(), slots_per_cta = heads_per_cta();
    const uint32_t pairs = head_dim / 2, half = n_rot() / 2, slots = q_heads + kv_heads;
    const bool normal = style == RopeStyle::normal;
    const bool partial = half < pairs;  // some pairs pass through unrotated
    b.reqntid(lanes, slots_per_cta);
    // Everything below reads or writes what earlier kernels touch: wait for them, so that this
    // kernel may be launched to overlap its predecessor's tail (programmatic dependent launch).
    if (target.sm >= 90) b.griddep_wait();

    Reg<u32> j = b.tid_x();
    Reg<u32> y = b.tid_y();
    Reg<u32> token = b.ctaid_y();
    Reg<s32> pos = b.ld<s32>(b.index(positions, token, 4)[0], {.nc = true});

    Reg<u32> slot = b.mad_lo(b.ctaid_x(), slots_per_cta, y);
    Pred active = b.setp(Cmp::lt, j, pairs);
    if (slots % slots_per_cta != 0) active = b.setp(Cmp::lt, slot, slots, BoolOp::and_, active);
    Pred is_q = b.setp(Cmp::lt, slot, q_heads);
    // Lanes past the pairs (padding to whole warps) work on pair pairs - 1 and store nothing.
    Reg<u32> jc = lanes > pairs ? b.min(j, pairs - 1) : j;
    std::optional<Pred> rotated;
    if (partial) rotated = b.setp(Cmp::lt, jc, half);

    // Element indices of the pair (neox only; normal pairs are 2j, 2j+1).
    Reg<u32> ia = jc, ib = jc;
    if (!normal) {
        ib = b.add(jc, half);
        if (partial) {
            Reg<u32> twice = b.shl(jc, 1u);
            ia = b.selp<u32>(jc, twice, *rotated);
            ib = b.selp<u32>(ib, b.add(twice, 1u), *rotated);
        }
    }
    auto load = [&](GlobalPtr row) {
        if (normal) {
            auto xv = b.ld_v<f32, 2>(b.index(row, jc, 8)[0], {.nc = true});
            return Pair{xv[0], xv[1]};
        }
        return Pair{b.ld<f32>(b.index(row, ia, 4)[0], {.nc = true}), b.ld<f32>(b.index(row, ib, 4)[0], {.nc = true})};
    };
    // The input pair of `row`, plus the same pair of row `head` of the bias buffer when there is one.
    auto load_biased = [&](GlobalPtr row, const std::optional<GlobalPtr>& bias_base, Reg<u32> head) {
        Pair x = load(row);
        if (!bias_base) return x;
        Pair by = load(b.index(*bias_base, head, head_dim * 4));
        return Pair{b.add(x.x0, by.x0, kRn), b.add(x.x1, by.x1, kRn)};
    };
    auto pick = [&](GlobalPtr if_q, GlobalPtr if_kv) { return GlobalPtr{b.selp<u64>(if_q.reg, if_kv.reg, is_q)}; };

    // The inputs are loaded before the turn table's barrier and the angle, so that their latency
    // overlaps the position's: with one token the kernel is one memory round trip, not two.
    // Threads past the heads or pairs load from clamped rows and store nothing. A query slot
    // loads its q pair as `x` (and the V row of KV head 0 as `vx`, unused); a KV slot its K and V
    // pairs.
    Reg<u32> q_head = b.min(slot, q_heads - 1);
    Reg<u32> kv_head = b.selp<u32>(0u, b.min(b.sub(slot, q_heads), kv_heads - 1), is_q);
    Reg<u32> q_row = b.mad_lo(token, q_heads, q_head);
    Reg<u32> kv_row = b.mad_lo(token, kv_heads, kv_head);
    std::optional<GlobalPtr> x_bias;
    if (bias) x_bias = pick(*bq, *bk);
    Pair x = load_biased(pick(b.index(q, q_row, head_dim * 4), b.index(k, kv_row, head_dim * 4)), x_bias,
                         b.selp<u32>(q_head, kv_head, is_q));
    Pair vx = load_biased(b.index(v, kv_row, head_dim * 4), bv, kv_head);

    SharedArray table = b.shared_array("turns", half * 8, 16);
    b.if_(b.setp(Cmp::eq, b.or_(j, y), 0u), [&] {
        for (uint32_t i = 0; i < half; ++i) b.st(table[8 * i], b.mov<u64>(turns_fixed(i)));
    });
    b.bar_sync();

    b.if_(active, [&] {
        // The angle of this pair at `pos`, reduced to [-pi, pi) before sin/cos.
        Reg<u32> entry = partial ? b.min(jc, half - 1) : jc;  // pass-through pairs read a valid entry and ignore it
        Reg<u64> turns = b.ld<u64>(b.index(b.addr_of(table), entry, 8)[0]);
        Reg<u64> frac = b.mul_lo(b.bitcast<u64>(b.cvt<s64>(pos)), turns);
        Reg<s32> signed_frac = b.bitcast<s32>(b.cvt<u32>(b.shr(frac, 32u)));
        const auto scale = static_cast<float>(2 * std::numbers::pi / 4294967296.0);
        Reg<f32> angle = b.mul(b.cvt<f32>(signed_frac, kRn), scale, kRn);
        Reg<f32> sine = b.sin(angle);
        Reg<f32> cosine = b.cos(angle);
        if (rotated) {
            sine = b.selp<f32>(sine, 0.0f, *rotated);
            cosine = b.selp<f32>(cosine, 1.0f, *rotated);
        }
        auto rotate = [&](Pair p) {
            return Pair{b.fma(p.x0, cosine, b.neg(b.mul(p.x1, sine, kRn))), b.fma(p.x0, sine, b.mul(p.x1, cosine, kRn))};
        };
        auto store_f32 = [&](GlobalPtr row, Pair p) {
            if (normal) {
                b.st_v<f32, 2>(b.index(row, j, 8)[0], {p.x0, p.x1});
            } else {
                b.st(b.index(row, ia, 4)[0], p.x0);
                b.st(b.index(row, ib, 4)[0], p.x1);
            }
        };
        auto store_f16 = [&](GlobalPtr row, Pair p) {
            Reg<f16> h0 = b.cvt<f16>(p.x0, kRn), h1 = b.cvt<f16>(p.x1, kRn);
            if (normal) {
                b.st(b.index(row, j, 4)[0], b.pack<b32>(h0, h1));
            } else {
                b.st(b.index(row, ia, 2)[0], b.bitcast<b16>(h0));
                b.st(b.index(row, ib, 2)[0], b.bitcast<b16>(h1));
            }
        };

        b.if_else(
            is_q,
            [&] {
                Pair rotated_q = rotate(x);
                if (q_out_f16) store_f16(b.index(q_out, q_row, head_dim * 2), rotated_q);
                else store_f32(b.index(q_out, q_row, head_dim * 4), rotated_q);
            },
            [&] {
                // Unsigned: a negative position is a huge one, outside the cache like any other.
                Reg<u32> at = b.bitcast<u32>(pos);
                b.if_(b.setp(Cmp::lt, at, max_seq), [&] {
                    Reg<u32> cache_row = b.mad_lo(kv_head, max_seq, at);
                    store_f16(b.index(k_cache, cache_row, head_dim * 2), rotate(x));
                    store_f16(b.index(v_cache, cache_row, head_dim * 2), vx);
                });
            });
    });
    return b.finish();
}

LaunchConfig RopeKvScatter::launch_config() const {
    const uint32_t slots = q_heads + kv_heads, per_cta = heads_per_cta();
    LaunchConfig c;
    c.block = {lanes_per_head(), per_cta, 1};
    c.grid = {(slots + per_cta - 1) / per_cta, tokens, 1};
    return c;
}

std::vector<ArgSpec> RopeKvScatter::args() const {
    const size_t q_count = size_t{tokens} * q_heads * head_dim;
    const size_t kv_count = size_t{tokens} * kv_heads * head_dim;
    const size_t cache_count = size_t{kv_heads} * max_seq * head_dim;
    std::vector<ArgSpec> a = {{"q", Role::input, Type::f32, q_count},
                              {"k", Role::input, Type::f32, kv_count},
                              {"v", Role::input, Type::f32, kv_count}};
    if (bias) {
        a.push_back({"bq", Role::input, Type::f32, size_t{q_heads} * head_dim});
        a.push_back({"bk", Role::input, Type::f32, size_t{kv_heads} * head_dim});
        a.push_back({"bv", Role::input, Type::f32, size_t{kv_heads} * head_dim});
    }
    a.push_back({"pos", Role::input, Type::s32, tokens});
    a.push_back({"k_cache", Role::inout, Type::f16, cache_count});
    a.push_back({"v_cache", Role::inout, Type::f16, cache_count});
    a.push_back({"q_out", Role::output, q_out_f16 ? Type::f16 : Type::f32, q_count});
    return a;
}

void RopeKvScatter::prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const {
    std::mt19937_64 rng(seed ^ 0x726f7065ull);  // its own stream, apart from the generic fill
    // A partial Fisher-Yates shuffle of rows 0 .. max_seq-2 gives tokens-1 distinct rows; the
    // last token takes the last row, where the angles are largest.
    std::vector<int32_t> rows(max_seq - 1);
    for (uint32_t i = 0; i + 1 < max_seq; ++i) rows[i] = static_cast<int32_t>(i);
    int32_t* pos = args[pos_arg()].as<int32_t>();
    for (uint32_t t = 0; t + 1 < tokens; ++t) {
        std::uniform_int_distribution<size_t> pick(t, rows.size() - 1);
        std::swap(rows[t], rows[pick(rng)]);
        pos[t] = rows[t];
    }
    pos[tokens - 1] = static_cast<int32_t>(max_seq - 1);
}

void RopeKvScatter::reference(std::vector<HostBuffer>& args) const {
    const float* q = args[0].as<float>();
    const float* k = args[1].as<float>();
    const float* v = args[2].as<float>();
    const float* bq = bias ? args[3].as<float>() : nullptr;
    const float* bk = bias ? args[4].as<float>() : nullptr;
    const float* bv = bias ? args[5].as<float>() : nullptr;
    const int32_t* pos = args[pos_arg()].as<int32_t>();
    uint16_t* k_cache = args[k_cache_arg()].as<uint16_t>();
    uint16_t* v_cache = args[v_cache_arg()].as<uint16_t>();
    HostBuffer& q_out = args[q_out_arg()];
    const uint32_t rot = n_rot();
    std::vector<float> input(head_dim);
    std::vector<double> out(head_dim);
    // The head's input row plus its bias row (a float add, as the kernel's add.rn.f32).
    auto biased = [&](const float* in, const float* b) {
        for (uint32_t e = 0; e < head_dim; ++e) input[e] = b ? in[e] + b[e] : in[e];
        return input.data();
    };
    // out = x with RoPE at position p, in double.
    auto rope = [&](const float* x, int32_t p) {
        for (uint32_t e = 0; e < head_dim; ++e) out[e] = x[e];
        for (uint32_t i = 0; i < rot / 2; ++i) {
            const uint32_t a = style == RopeStyle::normal ? 2 * i : i;
            const uint32_t c = style == RopeStyle::normal ? 2 * i + 1 : i + rot / 2;
            const double theta = p * std::pow(base, -2.0 * i / rot);
            out[a] = x[a] * std::cos(theta) - x[c] * std::sin(theta);
            out[c] = x[a] * std::sin(theta) + x[c] * std::cos(theta);
        }
    };
    for (uint32_t t = 0; t < tokens; ++t) {
        for (uint32_t h = 0; h < q_heads; ++h) {
            const size_t row = (size_t{t} * q_heads + h) * head_dim;
            rope(biased(q + row, bq ? bq + size_t{h} * head_dim : nullptr), pos[t]);
            for (uint32_t e = 0; e < head_dim; ++e) {
                const auto value = static_cast<float>(out[e]);
                if (q_out_f16) q_out.as<uint16_t>()[row + e] = f32_to_f16_bits(value);
                else q_out.as<float>()[row + e] = value;
            }
        }
        if (pos[t] < 0 || static_cast<uint32_t>(pos[t]) >= max_seq) continue;  // no cache row: nothing written
        for (uint32_t h = 0; h < kv_heads; ++h) {
            const size_t row = (size_t{t} * kv_heads + h) * head_dim;
            const size_t cache_row = (size_t{h} * max_seq + static_cast<uint32_t>(pos[t])) * head_dim;
            const size_t bias_row = size_t{h} * head_dim;
            rope(biased(k + row, bk ? bk + bias_row : nullptr), pos[t]);
            for (uint32_t e = 0; e < head_dim; ++e) k_cache[cache_row + e] = f32_to_f16_bits(static_cast<float>(out[e]));
            const float* vx = biased(v + row, bv ? bv + bias_row : nullptr);
            for (uint32_t e = 0; e < head_dim; ++e) v_cache[cache_row + e] = f32_to_f16_bits(vx[e]);
        }
    }
}

}  // namespace kernels
