// Pieces the weight-format codecs share: unaligned word loads, byte-to-float conversion, dp4a chains.
#include "gemv_codec.hpp"

namespace kernels::gemv {

using namespace ptxgen;

void load_words_align2(KernelBuilder& b, GlobalPtr at, uint32_t n, LdOpts opts, std::vector<Reg<u32>>& raw) {
    // o = at & 3 is 0 or 2. Words are loaded from the 4-byte-aligned address below `at`; word i of
    // the result is bytes o..o+3 of the pair (aligned[i], aligned[i+1]) (assemble_words_align2).
    // The extra word aligned[n] is only needed when o = 2, and then only its two low bytes, the
    // last two asked for: a 16-bit load at at + 4n - 2 reads exactly those (and, when o = 0, two
    // bytes that are asked for anyway), never past the request.
    GlobalPtr aligned{b.and_(at.reg, ~uint64_t{3})};
    for (uint32_t i = 0; i < n; ++i) raw.push_back(b.ld<u32>(aligned[4 * i], opts));
    raw.push_back(b.cvt<u32>(b.ld<u16>(at[4 * int64_t{n} - 2], opts)));
    raw.push_back(align2_selector(b, b.and_(b.cvt<u32>(at.reg), 3u)));
}

Reg<u32> align2_selector(KernelBuilder& b, Reg<u32> o) {
    // prmt picks bytes o..o+3 of (next:word) with the selector 0x3210 shifted by o bytes.
    return b.mad_lo(o, 0x1111u, 0x3210u);
}

std::vector<Reg<u32>> assemble_words_align2(KernelBuilder& b, const std::vector<Reg<u32>>& aligned, size_t first, uint32_t n,
                                            Reg<u32> selector) {
    std::vector<Reg<u32>> out;
    for (uint32_t i = 0; i < n; ++i) out.push_back(b.prmt(aligned[first + i], aligned[first + i + 1], selector));
    return out;
}

std::vector<Reg<f32>> bytes_to_f32(KernelBuilder& b, Reg<u32> word, float bias) {
    // Byte i of `word` becomes the low mantissa byte of 2^23 (0x4B000000): the float 2^23 + byte,
    // exact, from which one subtraction removes 2^23 and the bias.
    std::vector<Reg<f32>> out;
    for (uint32_t i = 0; i < 4; ++i) {
        Reg<u32> bits = b.prmt(word, 0x4B000000u, 0x7540u + i);
        out.push_back(b.sub(b.bitcast<f32>(bits), 8388608.0f + bias));
    }
    return out;
}

Reg<s32> dot_words(KernelBuilder& b, const std::vector<Reg<u32>>& w, size_t w_first, const std::vector<Reg<s32>>& x,
                   size_t x_first, size_t n, bool signed_weights) {
    return dot_words_from(b, b.mov<s32>(0), w, w_first, x, x_first, n, signed_weights);
}

Reg<s32> dot_words_from(KernelBuilder& b, Reg<s32> acc, const std::vector<Reg<u32>>& w, size_t w_first,
                        const std::vector<Reg<s32>>& x, size_t x_first, size_t n, bool signed_weights) {
    for (size_t i = 0; i < n; ++i) {
        if (signed_weights) acc = b.dp4a(b.bitcast<s32>(w[w_first + i]), x[x_first + i], acc);
        else acc = b.dp4a(w[w_first + i], x[x_first + i], acc);
    }
    return acc;
}

Reg<s32> sum_bytes(KernelBuilder& b, const std::vector<Reg<s32>>& x, size_t first, size_t n) {
    Reg<u32> ones = b.mov<u32>(0x01010101u);
    Reg<s32> acc = b.mov<s32>(0);
    for (size_t i = 0; i < n; ++i) acc = b.dp4a(ones, x[first + i], acc);
    return acc;
}

std::pair<Reg<f32>, Reg<f32>> half2_to_f32(KernelBuilder& b, Reg<u32> word) {
    Regs<f16, 2> h = b.unpack<f16>(word);
    return {b.cvt<f32>(h[0]), b.cvt<f32>(h[1])};
}

}  // namespace kernels::gemv
