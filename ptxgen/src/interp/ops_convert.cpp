// mov (registers, immediates, special registers, packing), cvt between every scalar type the
// builder offers, and cvta.
#include <algorithm>
#include <chrono>
#include <limits>
#include <cmath>

#include "exec.hpp"
#include "value.hpp"

namespace ptxgen::interp {

namespace {

uint64_t special_register(const Warp& w, SReg s, int lane) {
    const Launch& L = w.grid->launch;
    const Dim3 t = w.tid(lane);
    const Dim3& c = w.cta->id;
    switch (s) {
    case SReg::tid_x: return t.x;
    case SReg::tid_y: return t.y;
    case SReg::tid_z: return t.z;
    case SReg::ntid_x: return L.block.x;
    case SReg::ntid_y: return L.block.y;
    case SReg::ntid_z: return L.block.z;
    case SReg::ctaid_x: return c.x;
    case SReg::ctaid_y: return c.y;
    case SReg::ctaid_z: return c.z;
    case SReg::nctaid_x: return L.grid.x;
    case SReg::nctaid_y: return L.grid.y;
    case SReg::nctaid_z: return L.grid.z;
    case SReg::laneid: return static_cast<uint64_t>(lane);
    case SReg::warpid: return w.index;
    case SReg::clock64:
    case SReg::globaltimer:
        return static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
    }
    return 0;
}

void h_mov(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Operand& src = in.operand(1);
    const Operand& dst = in.operand(0);
    const uint32_t sd = d.s(0), sa = d.s(1);
    if (src.kind == OpKind::sreg) {
        const auto s = static_cast<SReg>(src.id);
        for_lanes(mask, [&](int l) { w.r(sd, l) = special_register(w, s, l); });
    } else if (src.kind == OpKind::vec) {  // pack: element 0 in the low bits
        const int ew = bit_width(src.type);
        const int n = d.count[1];
        for_lanes(mask, [&](int l) {
            if (in.type == Type::b128) {  // two 64-bit halves
                w.r(sd, l) = w.r(d.s(1, 0), l);
                w.r(sd + 1, l) = w.r(d.s(1, 1), l);
                return;
            }
            uint64_t v = 0;
            for (int e = 0; e < n; ++e) v |= (w.r(d.s(1, e), l) & (ew == 64 ? ~0ull : (1ull << ew) - 1)) << (e * ew);
            w.r(sd, l) = v;
        });
    } else if (dst.kind == OpKind::vec) {  // unpack
        const int ew = bit_width(dst.type);
        const int n = d.count[0];
        for_lanes(mask, [&](int l) {
            if (in.type == Type::b128) {
                w.r(d.s(0, 0), l) = w.r(sa, l);
                w.r(d.s(0, 1), l) = w.r(sa + 1, l);
                return;
            }
            const uint64_t v = w.r(sa, l);
            for (int e = 0; e < n; ++e) w.r(d.s(0, e), l) = (v >> (e * ew)) & (ew == 64 ? ~0ull : (1ull << ew) - 1);
        });
    } else {
        const bool wide = in.type == Type::b128;
        for_lanes(mask, [&](int l) {
            w.r(sd, l) = w.r(sa, l);
            if (wide) w.r(sd + 1, l) = w.r(sa + 1, l);
        });
    }
}

void h_cvta(Warp& w, const DInstr& d, uint32_t mask) {
    const uint32_t sd = d.s(0), sa = d.s(1);
    for_lanes(mask, [&](int l) { w.r(sd, l) = w.r(sa, l); });  // global addresses are generic addresses
}

// Reads a register of any scalar integer type as a 64-bit value, extended by its signedness.
int64_t read_int(uint64_t bits, Type t) {
    switch (bit_width(t)) {
    case 8: return is_signed(t) ? static_cast<int8_t>(bits) : static_cast<int64_t>(bits & 0xff);
    case 16: return is_signed(t) ? static_cast<int16_t>(bits) : static_cast<int64_t>(bits & 0xffff);
    case 32: return is_signed(t) ? static_cast<int32_t>(bits) : static_cast<int64_t>(bits & 0xffffffffu);
    default: return static_cast<int64_t>(bits);
    }
}

// Writes an integer of type t into a register: narrow types are extended to the register.
uint64_t write_int(int64_t v, Type t) {
    const int w = bit_width(t);
    if (w == 8) return is_signed(t) ? static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int8_t>(v))) : static_cast<uint64_t>(v) & 0xff;
    if (w == 64) return static_cast<uint64_t>(v);
    return static_cast<uint64_t>(v) & ((uint64_t{1} << w) - 1);
}

__extension__ using Int128 = __int128;  // holds every u64 and s64 value exactly

// Integer to integer: the source extended by its own signedness, then clamped to the
// destination's range (.sat) or truncated to its width.
uint64_t convert_int(uint64_t bits, Type from, Type to, bool sat) {
    const Int128 v = is_signed(from) || bit_width(from) < 64 ? Int128{read_int(bits, from)} : Int128{bits};
    const int w = bit_width(to);
    if (!sat) return write_int(static_cast<int64_t>(static_cast<uint64_t>(v)), to);
    const Int128 lo = is_signed(to) ? -(Int128{1} << (w - 1)) : 0;
    const Int128 hi = is_signed(to) ? (Int128{1} << (w - 1)) - 1 : (Int128{1} << w) - 1;
    const Int128 c = v < lo ? lo : v > hi ? hi : v;
    return write_int(static_cast<int64_t>(static_cast<uint64_t>(c)), to);
}

double read_float(uint64_t bits, Type t, bool ftz) {
    switch (t) {
    case Type::f16: return half_value(bits, false);
    case Type::bf16: return half_value(bits, true);
    case Type::f32: {
        float f = get<float>(bits);
        return ftz ? flush(f) : f;
    }
    default: return get<double>(bits);
    }
}

uint64_t write_float(double v, Type t, Round mode, bool ftz) {
    switch (t) {
    case Type::f16: return half_bits(v, false, mode);
    case Type::bf16: return half_bits(v, true, mode);
    case Type::f32: {
        const uint64_t bits = round_to_format(v, mode, kF32);
        return ftz ? bits_of(flush(get<float>(bits))) : bits;
    }
    default: return bits_of(v);
    }
}

void h_cvt(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Type to = in.type, from = in.type2;
    const Mods m = in.m;
    const uint32_t sd = d.s(0), sa = d.s(1);
    if (is_packed(to)) {  // cvt.rn.f16x2.f32 d, hi, lo
        const bool bf16 = to == Type::bf16x2;
        const uint32_t sb = d.s(2);
        for_lanes(mask, [&](int l) {
            const uint64_t hi = half_bits(get<float>(w.r(sa, l)), bf16, m.round);
            const uint64_t lo = half_bits(get<float>(w.r(sb, l)), bf16, m.round);
            w.r(sd, l) = hi << 16 | lo;
        });
        return;
    }
    const bool fto = is_float(to), ffrom = is_float(from);
    for_lanes(mask, [&](int l) {
        const uint64_t a = w.r(sa, l);
        uint64_t r;
        if (ffrom && fto) {
            double v = read_float(a, from, m.ftz);
            if (to == from && m.round != Round::none) v = round_integral(v, m.round);
            if (m.sat) v = saturate(v);
            r = write_float(v, to, bit_width(to) < bit_width(from) ? m.round : Round::rn, m.ftz);
        } else if (ffrom) {
            const double v = read_float(a, from, m.ftz);
            r = is_signed(to) ? write_int(float_to_signed(v, m.round, bit_width(to)), to)
                              : write_int(static_cast<int64_t>(float_to_unsigned(v, m.round, bit_width(to))), to);
        } else if (fto) {
            const int64_t v = read_int(a, from);
            r = is_signed(from) ? signed_to_float_bits(v, to, m.round)
                                : unsigned_to_float_bits(static_cast<uint64_t>(v), to, m.round);
            if (m.sat) r = write_float(saturate(read_float(r, to, false)), to, Round::rn, false);
        } else {
            r = convert_int(a, from, to, m.sat);
        }
        w.r(sd, l) = r;
    });
}

}  // namespace

Handler select_convert_handler(const Instr& in) {
    switch (in.op) {
    case Op::mov: return &h_mov;
    case Op::cvt: return &h_cvt;
    case Op::cvta: return &h_cvta;
    default: return nullptr;
    }
}

}  // namespace ptxgen::interp
