// Warp-level instructions (shfl, vote, activemask, redux), integer dot products, and the tensor-core
// instructions mma.sync and ldmatrix with the fragment layouts of the PTX ISA. The .sync forms
// require every lane named in the member mask to execute the same instruction; anything else
// would be undefined on a GPU and is reported here.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

#include "exec.hpp"
#include "value.hpp"

namespace ptxgen::interp {

namespace {

// Lanes named in `membermask` that are not executing this instruction, or executing lanes
// outside it, are a divergence error.
uint32_t check_members(const Warp& w, uint32_t membermask, uint32_t exec, const char* what) {
    const uint32_t members = membermask & w.valid;
    if (const uint32_t missing = members & ~w.present) {
        throw LaneFault{std::countr_zero(exec ? exec : w.present),
                        fmt::format("{}: lanes 0x{:08x} named in membermask 0x{:08x} are not executing it (diverged or exited)",
                                    what, missing, membermask)};
    }
    if (const uint32_t strays = exec & ~members) {
        throw LaneFault{std::countr_zero(strays), fmt::format("{}: lane {} executes it but is not in membermask 0x{:08x}", what,
                                                              std::countr_zero(strays), membermask)};
    }
    return members;
}

uint32_t imm32(Warp& w, const DInstr& d, int operand) { return static_cast<uint32_t>(w.r(d.s(operand), 0)); }

void h_shfl(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    check_members(w, imm32(w, d, 5), mask, "shfl.sync");
    std::array<uint64_t, 32> src{};
    for (int l = 0; l < 32; ++l) src[static_cast<size_t>(l)] = w.r(d.s(2), l);  // before d may overwrite a
    const ShflMode mode = in.m.shfl;
    const bool want_pred = d.count[1] != 0;
    for_lanes(mask, [&](int lane) {
        const uint32_t b = static_cast<uint32_t>(w.r(d.s(3), lane)) & 31, c = static_cast<uint32_t>(w.r(d.s(4), lane));
        const int cval = static_cast<int>(c & 31), segmask = static_cast<int>((c >> 8) & 31);
        const int max_lane = (lane & segmask) | (cval & ~segmask);
        const int min_lane = lane & segmask;
        int j = lane;
        bool valid = false;
        switch (mode) {
        case ShflMode::up: j = lane - static_cast<int>(b); valid = j >= max_lane; break;
        case ShflMode::down: j = lane + static_cast<int>(b); valid = j <= max_lane; break;
        case ShflMode::bfly: j = lane ^ static_cast<int>(b); valid = j <= max_lane; break;
        case ShflMode::idx: j = min_lane | (static_cast<int>(b) & ~segmask); valid = j <= max_lane; break;
        }
        if (!valid) j = lane;
        w.r(d.s(0), lane) = src[static_cast<size_t>(j)] & 0xffffffffu;
        if (want_pred) w.r(d.s(1), lane) = valid ? 1 : 0;
    });
}

void h_vote(Warp& w, const DInstr& d, uint32_t mask) {
    const uint32_t members = check_members(w, imm32(w, d, 2), mask, "vote.sync");
    const bool neg = d.negated[1];
    uint32_t ballot = 0;
    for_lanes(members & mask, [&](int l) { ballot |= ((w.r(d.s(1), l) != 0) != neg) ? 1u << l : 0u; });
    const uint32_t voting = members & mask;
    uint64_t r = 0;
    switch (d.in->m.vote) {
    case VoteMode::all: r = ballot == voting; break;
    case VoteMode::any: r = ballot != 0; break;
    case VoteMode::uni: r = ballot == 0 || ballot == voting; break;
    case VoteMode::ballot: r = ballot; break;
    }
    for_lanes(mask, [&](int l) { w.r(d.s(0), l) = r; });
}

void h_activemask(Warp& w, const DInstr& d, uint32_t mask) {
    for_lanes(mask, [&](int l) { w.r(d.s(0), l) = w.present; });
}

void h_redux(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const uint32_t members = check_members(w, imm32(w, d, 2), mask, "redux.sync");
    const bool is_signed_type = in.type == Type::s32;
    uint32_t acc = 0;
    bool first = true;
    for_lanes(members & mask, [&](int l) {
        const auto v = static_cast<uint32_t>(w.r(d.s(1), l));
        if (first) {
            acc = v;
            first = false;
            return;
        }
        switch (in.m.atom) {
        case AtomOp::add: acc += v; break;
        case AtomOp::min:
            acc = is_signed_type ? static_cast<uint32_t>(std::min(static_cast<int32_t>(acc), static_cast<int32_t>(v))) : std::min(acc, v);
            break;
        case AtomOp::max:
            acc = is_signed_type ? static_cast<uint32_t>(std::max(static_cast<int32_t>(acc), static_cast<int32_t>(v))) : std::max(acc, v);
            break;
        case AtomOp::and_: acc &= v; break;
        case AtomOp::or_: acc |= v; break;
        case AtomOp::xor_: acc ^= v; break;
        default: break;
        }
    });
    for_lanes(mask, [&](int l) { w.r(d.s(0), l) = acc; });
}

int32_t part(uint32_t word, int index, int bits, bool is_signed_part) {
    const uint32_t raw = (word >> (index * bits)) & ((1u << bits) - 1);
    if (!is_signed_part) return static_cast<int32_t>(raw);
    return bits == 8 ? static_cast<int8_t>(raw) : static_cast<int16_t>(raw);
}

void h_dot(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const bool sa = in.type == Type::s32, sb = in.type2 == Type::s32;
    const bool four = in.op == Op::dp4a;
    const int first_byte = in.m.half == DpHalf::hi ? 2 : 0;
    for_lanes(mask, [&](int l) {
        const auto a = static_cast<uint32_t>(w.r(d.s(1), l)), b = static_cast<uint32_t>(w.r(d.s(2), l));
        int64_t sum = 0;
        if (four) {
            for (int i = 0; i < 4; ++i) sum += int64_t{part(a, i, 8, sa)} * part(b, i, 8, sb);
        } else {
            for (int i = 0; i < 2; ++i) sum += int64_t{part(a, i, 16, sa)} * part(b, first_byte + i, 8, sb);
        }
        const auto c = static_cast<uint32_t>(w.r(d.s(3), l));
        w.r(d.s(0), l) = static_cast<uint32_t>(c + static_cast<uint32_t>(sum));  // 32-bit wrap-around
    });
}

void require_full_warp(const Warp& w, uint32_t mask, const char* what) {
    if (w.present != 0xffffffffu || mask != 0xffffffffu) {
        throw LaneFault{std::countr_zero(~mask ? ~mask : 1u),
                        fmt::format("{} needs all 32 lanes of the warp converged; lanes 0x{:08x} execute it", what, mask)};
    }
}

// D = A x B + C for mma.m8n8k16 with s8 inputs: A (8 x 16) has row g, k 4t..4t+3 in lane 4g + t;
// B (16 x 8) k 4t..4t+3, column g; C and D row g, columns 2t and 2t + 1 (PTX ISA fragment layouts).
// Wraps on overflow, or saturates with .satfinite.
void mma_m8n8k16(Warp& w, const DInstr& d) {
    std::array<std::array<int64_t, 16>, 8> A{};
    std::array<std::array<int64_t, 8>, 16> B{};
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2, t = lane & 3;
        const auto a = static_cast<uint32_t>(w.r(d.s(1, 0), lane));
        const auto b = static_cast<uint32_t>(w.r(d.s(2, 0), lane));
        for (int k = 0; k < 4; ++k) {
            A[static_cast<size_t>(g)][static_cast<size_t>(4 * t + k)] = part(a, k, 8, true);
            B[static_cast<size_t>(4 * t + k)][static_cast<size_t>(g)] = part(b, k, 8, true);
        }
    }
    std::array<std::array<uint64_t, 2>, 32> C{};
    for (int lane = 0; lane < 32; ++lane) {
        for (int i = 0; i < 2; ++i) C[static_cast<size_t>(lane)][static_cast<size_t>(i)] = w.r(d.s(3, i), lane);
    }
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2, t = lane & 3;
        for (int i = 0; i < 2; ++i) {
            int64_t acc = get<int32_t>(C[static_cast<size_t>(lane)][static_cast<size_t>(i)]);
            for (int k = 0; k < 16; ++k) acc += A[static_cast<size_t>(g)][static_cast<size_t>(k)] * B[static_cast<size_t>(k)][static_cast<size_t>(2 * t + i)];
            if (d.in->m.sat) acc = std::clamp<int64_t>(acc, INT32_MIN, INT32_MAX);
            w.r(d.s(0, i), lane) = static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(acc)));  // else wraps
        }
    }
}

// D = A x B + C for one m16n8 tile. Element (row, col) of each fragment lives in a lane and
// register given by the layout functions below (PTX ISA, "Matrix fragments for mma.m16n8k16/k32").
void h_mma(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    require_full_warp(w, mask, "mma.sync");
    if (in.m.shape == MmaShape::m8n8k16) return mma_m8n8k16(w, d);
    const bool int8 = in.m.shape == MmaShape::m16n8k32;
    const bool bf16 = in.type2 == Type::bf16;
    const int K = int8 ? 32 : 16;
    const int per_reg = int8 ? 4 : 2;  // elements packed in one 32-bit register
    std::array<std::array<double, 32>, 16> A{};
    std::array<std::array<double, 8>, 32> B{};
    auto element = [&](uint32_t word, int k) -> double {
        if (int8) return part(word, k, 8, true);
        return half_value((word >> (16 * k)) & 0xffffu, bf16);
    };
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2, t = lane & 3;
        for (int i = 0; i < 4; ++i) {
            const auto word = static_cast<uint32_t>(w.r(d.s(1, i), lane));
            for (int k = 0; k < per_reg; ++k) {
                A[static_cast<size_t>(g + 8 * (i % 2))][static_cast<size_t>(t * per_reg + k + (K / 2) * (i / 2))] = element(word, k);
            }
        }
        for (int i = 0; i < 2; ++i) {
            const auto word = static_cast<uint32_t>(w.r(d.s(2, i), lane));
            for (int k = 0; k < per_reg; ++k) {
                B[static_cast<size_t>(t * per_reg + k + (K / 2) * i)][static_cast<size_t>(g)] = element(word, k);
            }
        }
    }
    // Read all of C before writing any of D: the registers may be the same.
    std::array<std::array<uint64_t, 4>, 32> C{};
    for (int lane = 0; lane < 32; ++lane) {
        for (int i = 0; i < 4; ++i) C[static_cast<size_t>(lane)][static_cast<size_t>(i)] = w.r(d.s(3, i), lane);
    }
    for (int lane = 0; lane < 32; ++lane) {
        const int g = lane >> 2, t = lane & 3;
        for (int i = 0; i < 4; ++i) {
            const int row = g + 8 * (i / 2), col = t * 2 + (i % 2);
            double acc = 0;
            for (int k = 0; k < K; ++k) acc += A[static_cast<size_t>(row)][static_cast<size_t>(k)] * B[static_cast<size_t>(k)][static_cast<size_t>(col)];
            const uint64_t c = C[static_cast<size_t>(lane)][static_cast<size_t>(i)];
            uint64_t out;
            if (int8) {
                int64_t v = static_cast<int64_t>(acc) + get<int32_t>(c);
                if (in.m.sat) v = std::clamp<int64_t>(v, INT32_MIN, INT32_MAX);
                out = static_cast<uint32_t>(static_cast<int32_t>(static_cast<uint32_t>(v)));
            } else {
                out = put<float>(static_cast<float>(acc + static_cast<double>(get<float>(c))));
            }
            w.r(d.s(0, i), lane) = out;
        }
    }
}

// ldmatrix: lane l supplies the address of row l % 8 of matrix l / 8; each lane receives, per
// matrix, the two 16-bit elements (row l / 4, columns 2 (l % 4) and +1), or with .trans the
// elements (rows 2 (l % 4) and +1, column l / 4).
void h_ldmatrix(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    require_full_warp(w, mask, "ldmatrix");
    const int matrices = in.m.vec;
    std::array<uint64_t, 32> row_address{};
    for (int lane = 0; lane < 8 * matrices; ++lane) {
        row_address[static_cast<size_t>(lane)] = address_of(w, d.addr[0], lane);
        if (row_address[static_cast<size_t>(lane)] % 16 != 0) {
            throw LaneFault{lane, fmt::format("ldmatrix row address 0x{:x} is not 16-byte aligned", row_address[static_cast<size_t>(lane)])};
        }
    }
    auto element = [&](int lane_for_errors, int m, int row, int col) -> uint32_t {
        uint16_t v;
        const uint64_t at = row_address[static_cast<size_t>(8 * m + row)] + 2 * static_cast<uint64_t>(col);
        std::memcpy(&v, access(w, lane_for_errors, Space::shared, at, 2, Access::read), 2);
        return v;
    };
    for (int lane = 0; lane < 32; ++lane) {
        for (int m = 0; m < matrices; ++m) {
            uint32_t lo, hi;
            if (in.m.trans) {
                lo = element(lane, m, 2 * (lane % 4), lane / 4);
                hi = element(lane, m, 2 * (lane % 4) + 1, lane / 4);
            } else {
                lo = element(lane, m, lane / 4, 2 * (lane % 4));
                hi = element(lane, m, lane / 4, 2 * (lane % 4) + 1);
            }
            w.r(d.s(0, m), lane) = hi << 16 | lo;
        }
    }
}

}  // namespace

Handler select_warp_handler(const Instr& in) {
    switch (in.op) {
    case Op::shfl: return &h_shfl;
    case Op::vote: return &h_vote;
    case Op::activemask: return &h_activemask;
    case Op::redux: return &h_redux;
    case Op::dp4a: case Op::dp2a: return &h_dot;
    case Op::mma: return &h_mma;
    case Op::ldmatrix: return &h_ldmatrix;
    default: return nullptr;
    }
}

}  // namespace ptxgen::interp
