// Thread mapping: CTA (x, t) serves token t; thread u of the token's row (u = x * block + tid)
// produces a fixed slice of the row, chosen so that consecutive threads write consecutive 16-byte
// runs of y (each 4 output values are one 16-byte store) and read consecutive quant bytes:
//   q4_k  u -> super-block u/32, qs bytes 4*(u%32) .. +4 (one 4-byte load) and the block's 16-byte
//         header (one 16-byte load, the same for the warp: 144-byte blocks keep 16-byte alignment):
//         4 values of sub-block 2c and 4 of 2c+1 (c = (u%32)/8);
//   q6_k  u -> super-block u/16, half h = (u%16)/8, columns 4*(u%8) .. +4 of that half: 4 runs of 4
//         values, from 2-byte loads of ql, ql + 32 and qh and 1-byte loads of 4 scales (210-byte
//         blocks are only 2-byte aligned);
//   q8_0  u -> values 4u .. 4u+3 of block u/8 (34 bytes, 2-byte aligned): 2-byte loads;
//   f16   u -> values 4u .. 4u+3: one 8-byte load.
// The id is read once per thread (the same for the whole CTA); one outside [0, vocab) sends the
// CTA down a branch that writes NaN instead and reads nothing from the table.
#include "kernels/embed_rows.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <random>

#include "ptxgen/builder.hpp"
#include "ptxgen/error.hpp"

namespace kernels {

using namespace ptxgen;
using quant::GgmlType;

namespace {

struct TypeChoice {
    const char* word;
    GgmlType type;
};
constexpr TypeChoice kTypes[] = {
    {"q4_k", GgmlType::q4_k}, {"q6_k", GgmlType::q6_k}, {"q8_0", GgmlType::q8_0}, {"f16", GgmlType::f16}};

const char* type_word(GgmlType t) {
    for (const TypeChoice& c : kTypes) {
        if (c.type == t) return c.word;
    }
    throw ptxsmith::Error(fmt::format("embed_rows: type {} is not supported", static_cast<uint32_t>(t)));
}

constexpr uint32_t kNanBits = 0x7fc00000u;
constexpr FMode kRn{.round = Round::rn};  // explicit rounding: ptxas never fuses these into an fma

// Stores `values` (a multiple of 4) as consecutive floats from element `first` of the row.
void store_run(KernelBuilder& b, GlobalPtr yrow, Reg<u32> first, const std::vector<Reg<f32>>& values) {
    GlobalPtr at = b.index(yrow, first, 4);
    for (size_t i = 0; i < values.size(); i += 4) {
        b.st_v<f32, 4>(at[static_cast<int64_t>(4 * i)], {values[i], values[i + 1], values[i + 2], values[i + 3]});
    }
}

Reg<f32> f16_to_f32(KernelBuilder& b, Reg<f16> h) { return b.cvt<f32>(h); }

// Two 2-byte loads joined into one word, the lower address in the low half.
Reg<u32> load_u16_pair(KernelBuilder& b, GlobalPtr p, int64_t offset) {
    Reg<u16> lo = b.ld<u16>(p[offset], {.nc = true});
    Reg<u16> hi = b.ld<u16>(p[offset + 2], {.nc = true});
    return b.pack<u32>(lo, hi);
}

void dequant_q4_k(KernelBuilder& b, GlobalPtr row, Reg<u32> u, GlobalPtr yrow) {
    Reg<u32> sb = b.shr(u, 5u);
    Reg<u32> word = b.and_(u, 31u);  // which 4 bytes of qs
    Reg<u32> c = b.shr(word, 3u);    // 64-value chunk: sub-blocks 2c (low nibbles) and 2c + 1 (high)
    GlobalPtr blk = b.index(row, sb, sizeof(quant::BlockQ4K));
    auto head = b.ld_v<u32, 4>(blk[0], {.nc = true});  // {d, dmin}, scales[0..3], [4..7], [8..11]
    Reg<u32> qs = b.ld<u32>(b.index(blk, word, 4)[16], {.nc = true});
    auto dm = b.unpack<f16>(head[0]);
    Reg<f32> d = f16_to_f32(b, dm[0]);
    Reg<f32> dmin = f16_to_f32(b, dm[1]);

    // Sub-block j = 2c + i uses byte jj = j % 4 of each scales word (formats.md): for j < 4,
    // sc = s[jj] & 63 and m = s[jj+4] & 63; for j >= 4, sc = (s[jj+8] & 15) | (s[jj] >> 6) << 4 and
    // m = (s[jj+8] >> 4) | (s[jj+4] >> 6) << 4.
    Pred upper = b.setp(Cmp::ge, c, 2u);
    Reg<u32> pos0 = b.shl(b.and_(c, 1u), 4u);  // bit position of byte jj = 2 * (c % 2)
    std::array<std::vector<Reg<f32>>, 2> out;
    for (uint32_t i = 0; i < 2; ++i) {
        Reg<u32> pos = i == 0 ? pos0 : b.add(pos0, 8u);
        Reg<u32> sc_lo = b.bfe(head[1], pos, 6u);
        Reg<u32> m_lo = b.bfe(head[2], pos, 6u);
        Reg<u32> sc_hi = b.bfi(b.bfe(head[1], b.add(pos, 6u), 2u), b.bfe(head[3], pos, 4u), 4u, 2u);
        Reg<u32> m_hi = b.bfi(b.bfe(head[2], b.add(pos, 6u), 2u), b.bfe(head[3], b.add(pos, 4u), 4u), 4u, 2u);
        Reg<f32> scale = b.mul(d, b.cvt<f32>(b.selp<u32>(sc_hi, sc_lo, upper), kRn), kRn);
        Reg<f32> min = b.mul(dmin, b.cvt<f32>(b.selp<u32>(m_hi, m_lo, upper), kRn), kRn);
        for (uint32_t byte = 0; byte < 4; ++byte) {
            Reg<u32> q = b.bfe(qs, 8 * byte + 4 * i, 4u);
            out[i].push_back(b.sub(b.mul(scale, b.cvt<f32>(q, kRn), kRn), min, kRn));
        }
    }
    // Values 256 sb + 64 c + 4 (word % 8) + byte (low nibbles) and 32 further on (high nibbles).
    Reg<u32> first = b.add(b.shl(sb, 8u), b.add(b.shl(c, 6u), b.shl(b.and_(word, 7u), 2u)));
    store_run(b, yrow, first, out[0]);
    store_run(b, yrow, b.add(first, 32u), out[1]);
}

void dequant_q6_k(KernelBuilder& b, GlobalPtr row, Reg<u32> u, GlobalPtr yrow) {
    Reg<u32> sb = b.shr(u, 4u);
    Reg<u32> h = b.bfe(u, 3u, 1u);  // half of the super-block
    Reg<u32> l4 = b.shl(b.and_(u, 7u), 2u);  // columns l4 .. l4+3 of the half
    GlobalPtr blk = b.index(row, sb, sizeof(quant::BlockQ6K));
    GlobalPtr ql = b.index(blk, b.add(b.shl(h, 6u), l4), 1);  // ql + 64h + l4
    GlobalPtr qh = b.index(blk, b.add(b.shl(h, 5u), l4), 1);  // (qh - 128) + 32h + l4
    GlobalPtr sc = b.index(blk, b.add(b.shl(h, 3u), b.shr(l4, 4u)), 1);  // (scales - 192) + 8h + l4/16
    Reg<u32> qla = load_u16_pair(b, ql, 0);
    Reg<u32> qlb = load_u16_pair(b, ql, 32);
    Reg<u32> qhw = load_u16_pair(b, qh, 128);
    Reg<f32> d = f16_to_f32(b, b.bitcast<f16>(b.ld<b16>(blk[208], {.nc = true})));

    // Run j (values 128h + 32j + l4 + i) takes its low nibble from ql (j = 0, 2) or ql + 32
    // (j = 1, 3), low (j < 2) or high, and bits 2j, 2j+1 of qh; its scale is scales[8h + 2j + l4/16].
    Reg<u32> base = b.add(b.add(b.shl(sb, 8u), b.shl(h, 7u)), l4);
    for (uint32_t j = 0; j < 4; ++j) {
        Reg<f32> scale = b.mul(d, b.cvt<f32>(b.ld<s8>(sc[192 + 2 * j], {.nc = true}), kRn), kRn);
        std::vector<Reg<f32>> out;
        for (uint32_t i = 0; i < 4; ++i) {
            Reg<u32> nib = b.bfe(j % 2 == 0 ? qla : qlb, 8 * i + 4 * (j / 2), 4u);
            Reg<u32> q = b.bfi(b.bfe(qhw, 8 * i + 2 * j, 2u), nib, 4u, 2u);
            Reg<s32> centred = b.sub(b.bitcast<s32>(q), 32);
            out.push_back(b.mul(scale, b.cvt<f32>(centred, kRn), kRn));
        }
        store_run(b, yrow, j == 0 ? base : b.add(base, 32 * j), out);
    }
}

void dequant_q8_0(KernelBuilder& b, GlobalPtr row, Reg<u32> u, GlobalPtr yrow) {
    GlobalPtr blk = b.index(row, b.shr(u, 3u), sizeof(quant::BlockQ8_0));
    Reg<f32> d = f16_to_f32(b, b.bitcast<f16>(b.ld<b16>(blk[0], {.nc = true})));
    Reg<s32> word = b.bitcast<s32>(load_u16_pair(b, b.index(blk, b.and_(u, 7u), 4), 2));
    std::vector<Reg<f32>> out;
    for (uint32_t i = 0; i < 4; ++i) {
        Reg<s32> q = b.bfe(word, 8 * i, 8u);  // sign-extended
        out.push_back(b.mul(b.cvt<f32>(q, kRn), d, kRn));
    }
    store_run(b, yrow, b.shl(u, 2u), out);
}

void dequant_f16(KernelBuilder& b, GlobalPtr row, Reg<u32> u, GlobalPtr yrow) {
    auto words = b.ld_v<u32, 2>(b.index(row, u, 8)[0], {.nc = true});
    std::vector<Reg<f32>> out;
    for (Reg<u32> w : words) {
        for (Reg<f16> h : b.unpack<f16>(w)) out.push_back(f16_to_f32(b, h));
    }
    store_run(b, yrow, b.shl(u, 2u), out);
}

}  // namespace

FamilyInfo EmbedRows::info() {
    ParamSpec type{"type", ParamKind::choice, "table format", "q4_k", 0, 0, {}};
    for (const TypeChoice& c : kTypes) type.choices.push_back(c.word);
    return {"embed_rows",
            "y[t] = dequantized table row ids[t] (token embedding lookup), bit-identical to the host "
            "dequantiser; ids outside [0, vocab) give NaN rows",
            {type,
             ParamSpec{"k", ParamKind::integer, "row length (a multiple of the format's block; 4 for f16)", "4096", 4,
                       1 << 20, {}},
             ParamSpec{"vocab", ParamKind::integer, "rows in the table", "1024", 1, 1 << 24, {}},
             ParamSpec{"tokens", ParamKind::integer, "ids to look up (one CTA row each)", "8", 1, 65535, {}}},
            {ParamValues{{"type", "q4_k"}, {"k", "512"}, {"vocab", "5"}, {"tokens", "3"}},
             ParamValues{{"type", "q6_k"}, {"k", "768"}, {"vocab", "4"}, {"tokens", "3"}},
             ParamValues{{"type", "q8_0"}, {"k", "96"}, {"vocab", "6"}, {"tokens", "4"}},
             ParamValues{{"type", "f16"}, {"k", "36"}, {"vocab", "3"}, {"tokens", "2"}}}};
}

EmbedRows EmbedRows::from(const ParamValues& v) {
    EmbedRows f;
    const std::string& word = v.text("type");
    bool known = false;
    for (const TypeChoice& c : kTypes) {
        if (word == c.word) {
            f.type = c.type;
            known = true;
        }
    }
    if (!known) throw ptxsmith::Error(fmt::format("embed_rows: --type {} is not one of q4_k, q6_k, q8_0, f16", word));
    f.k = static_cast<uint32_t>(v.integer("k"));
    f.vocab = static_cast<uint32_t>(v.integer("vocab"));
    f.tokens = static_cast<uint32_t>(v.integer("tokens"));
    const uint32_t unit = f.type == GgmlType::f16 ? 4 : static_cast<uint32_t>(quant::traits(f.type).block_elements);
    if (f.k % unit != 0) {
        throw ptxsmith::Error(fmt::format("embed_rows: --k {} is not a multiple of {}, the {} block size{}", f.k, unit,
                                          word, f.type == GgmlType::f16 ? " (4 values per 8-byte load)" : ""));
    }
    return f;
}

std::string EmbedRows::name() const {
    return fmt::format("embed_rows_{}_k{}_v{}_t{}", type_word(type), k, vocab, tokens);
}

BenchWork EmbedRows::bench_work() const {
    const uint64_t row = quant::row_bytes(type, k);
    BenchWork w;
    w.bytes = uint64_t{tokens} * (row + 4 + uint64_t{k} * 4);
    w.what = fmt::format("{} table rows of {} bytes read, {} ids, {} x {} f32 written; not the whole table", tokens, row,
                         tokens, tokens, k);
    return w;
}

std::string EmbedRows::notes() const {
    return fmt::format("{} values per thread, {} threads per row in CTAs of {}", values_per_thread(), threads_per_row(),
                       block());
}

uint32_t EmbedRows::values_per_thread() const {
    switch (type) {
    case GgmlType::q4_k: return 8;
    case GgmlType::q6_k: return 16;
    default: return 4;
    }
}

uint32_t EmbedRows::block() const { return std::min(256u, (threads_per_row() + 31) / 32 * 32); }

Kernel EmbedRows::build(const Target& target) const {
    KernelBuilder b(name(), target);
    GlobalPtr table = b.param_ptr("table", Type::u8);
    GlobalPtr ids = b.param_ptr("ids", Type::s32);
    GlobalPtr y = b.param_ptr("y", Type::f32);
    const uint32_t threads = block();
    b.reqntid(threads);
    Reg<u32> token = b.ctaid_y();
    Reg<u32> u = b.global_index_x();
    // Unsigned: a negative id is a huge one, outside the table like any other.
    Reg<u32> id = b.bitcast<u32>(b.ld<s32>(b.index(ids, token, 4)[0], {.nc = true}));
    Pred known = b.setp(Cmp::lt, id, vocab);
    GlobalPtr yrow = b.offset(y, b.mul_wide(token, k * 4));
    const auto bytes_per_row = static_cast<uint32_t>(quant::row_bytes(type, k));

    auto body = [&] {
        b.if_else(
            known,
            [&] {
                GlobalPtr row = b.offset(table, b.mul_wide(id, bytes_per_row));
                switch (type) {
                case GgmlType::q4_k: dequant_q4_k(b, row, u, yrow); break;
                case GgmlType::q6_k: dequant_q6_k(b, row, u, yrow); break;
                case GgmlType::q8_0: dequant_q8_0(b, row, u, yrow); break;
                default: dequant_f16(b, row, u, yrow); break;
                }
            },
            [&] {
                Reg<f32> nan = b.bitcast<f32>(b.mov<u32>(kNanBits));
                store_run(b, yrow, b.mul_lo(u, values_per_thread()),
                          std::vector<Reg<f32>>(values_per_thread(), nan));
            });
    };
    if (threads_per_row() % threads == 0) body();
    else b.if_(b.setp(Cmp::lt, u, threads_per_row()), body);
    return b.finish();
}

LaunchConfig EmbedRows::launch_config() const {
    LaunchConfig c;
    c.block = {block(), 1, 1};
    c.grid = {(threads_per_row() + block() - 1) / block(), tokens, 1};
    return c;
}

std::vector<ArgSpec> EmbedRows::args() const {
    return {{"table", Role::input, Type::u8, quant::row_bytes(type, k) * vocab, true},
            {"ids", Role::input, Type::s32, tokens},
            {"y", Role::output, Type::f32, size_t{tokens} * k}};
}

void EmbedRows::prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const {
    std::mt19937_64 rng(seed ^ 0x656d626564ull);  // its own stream, apart from the generic fill
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> values(size_t{vocab} * k);
    for (float& x : values) x = normal(rng);
    quant::quantize(type, values.data(), args[0].bytes.data(), static_cast<int64_t>(values.size()));
    std::uniform_int_distribution<int32_t> pick(0, static_cast<int32_t>(vocab - 1));
    int32_t* ids = args[1].as<int32_t>();
    for (uint32_t t = 0; t < tokens; ++t) ids[t] = pick(rng);
}

void EmbedRows::reference(std::vector<HostBuffer>& args) const {
    const size_t bytes_per_row = quant::row_bytes(type, k);
    const uint8_t* table = args[0].as<uint8_t>();
    const int32_t* ids = args[1].as<int32_t>();
    float* y = args[2].as<float>();
    for (uint32_t t = 0; t < tokens; ++t) {
        float* out = y + size_t{t} * k;
        const int32_t id = ids[t];
        if (id < 0 || static_cast<uint32_t>(id) >= vocab) {
            std::fill(out, out + k, std::numeric_limits<float>::quiet_NaN());
        } else {
            quant::dequantize(type, table + static_cast<size_t>(id) * bytes_per_row, out, k);
        }
    }
}

}  // namespace kernels
