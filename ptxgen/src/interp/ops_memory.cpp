// Loads, stores, atomics, reductions and asynchronous copies. Every access goes through access()
// (exec.hpp), which checks bounds and alignment. Global atomics are atomic across the host
// threads that run CTAs; a CTA's shared memory belongs to one host thread.
#include <fmt/format.h>

#include <atomic>
#include <cstring>

#include "exec.hpp"
#include "value.hpp"

namespace ptxgen::interp {

namespace {

// A memory value of type t (1 to 8 bytes) as its register bits: 8-bit signed values sign-extend.
uint64_t load_value(const uint8_t* p, Type t) {
    uint64_t v = 0;
    std::memcpy(&v, p, static_cast<size_t>(byte_size(t)));
    if (t == Type::s8) return static_cast<uint64_t>(static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(v))));
    return v;
}

void h_ld(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Type t = in.type;
    const int n = in.m.vec;
    const uint32_t elem = static_cast<uint32_t>(byte_size(t));
    const DAddr& a = d.addr[0];
    for_lanes(mask, [&](int l) {
        const uint8_t* p = access(w, l, a.space, address_of(w, a, l), elem * static_cast<uint32_t>(n), Access::read);
        for (int e = 0; e < n; ++e) {
            const uint32_t slot = d.s(0, e);
            if (t == Type::b128) {
                std::memcpy(&w.r(slot, l), p + 16 * e, 8);
                std::memcpy(&w.r(slot + 1, l), p + 16 * e + 8, 8);
            } else {
                w.r(slot, l) = load_value(p + elem * static_cast<uint32_t>(e), t);
            }
        }
    });
}

void h_st(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const Type t = in.type;
    const int n = in.m.vec;
    const uint32_t elem = static_cast<uint32_t>(byte_size(t));
    const DAddr& a = d.addr[0];
    for_lanes(mask, [&](int l) {
        uint8_t* p = access(w, l, a.space, address_of(w, a, l), elem * static_cast<uint32_t>(n), Access::write);
        for (int e = 0; e < n; ++e) {
            const uint32_t slot = d.s(1, e);
            if (t == Type::b128) {
                std::memcpy(p + 16 * e, &w.r(slot, l), 8);
                std::memcpy(p + 16 * e + 8, &w.r(slot + 1, l), 8);
            } else {
                const uint64_t v = w.r(slot, l);
                std::memcpy(p + elem * static_cast<uint32_t>(e), &v, elem);
            }
        }
    });
}

// The new memory value of an atomic operation on `old`.
template <class U> U atomic_result(AtomOp op, Type t, U old, U v, U cas_new) {
    switch (op) {
    case AtomOp::add:
        if (t == Type::f32) return static_cast<U>(put<float>(get<float>(old) + get<float>(v)));
        if (t == Type::f64) return static_cast<U>(put<double>(get<double>(old) + get<double>(v)));
        return static_cast<U>(old + v);
    case AtomOp::min:
        if (is_signed(t)) return get<std::make_signed_t<U>>(old) < get<std::make_signed_t<U>>(v) ? old : v;
        return old < v ? old : v;
    case AtomOp::max:
        if (is_signed(t)) return get<std::make_signed_t<U>>(old) > get<std::make_signed_t<U>>(v) ? old : v;
        return old > v ? old : v;
    case AtomOp::exch: return v;
    case AtomOp::cas: return old == v ? cas_new : old;
    case AtomOp::and_: return old & v;
    case AtomOp::or_: return old | v;
    case AtomOp::xor_: return old ^ v;
    }
    return old;
}

template <class U> void h_atomic(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const bool returns = in.op == Op::atom;
    const int value_operand = returns ? 2 : 1;
    const uint32_t sv = d.s(value_operand);
    const uint32_t sc = in.m.atom == AtomOp::cas ? d.s(value_operand + 1) : sv;
    const DAddr& a = d.addr[0];
    for_lanes(mask, [&](int l) {
        U* p = reinterpret_cast<U*>(access(w, l, a.space, address_of(w, a, l), sizeof(U), Access::atomic));
        const U v = static_cast<U>(w.r(sv, l)), cas_new = static_cast<U>(w.r(sc, l));
        std::atomic_ref<U> ref(*p);
        U old = ref.load(std::memory_order_relaxed);
        while (!ref.compare_exchange_weak(old, atomic_result<U>(in.m.atom, in.type, old, v, cas_new), std::memory_order_relaxed)) {
        }
        if (returns) w.r(d.s(0), l) = old;
    });
}

void h_cp_async(Warp& w, const DInstr& d, uint32_t mask) {
    const Instr& in = *d.in;
    const auto total = static_cast<uint32_t>(in.operand(2).bits);
    const bool partial = in.nops > 3;
    const DAddr &dst = d.addr[0], &src = d.addr[1];
    for_lanes(mask, [&](int l) {
        const uint64_t to = address_of(w, dst, l), from = address_of(w, src, l);
        const uint32_t bytes = partial ? static_cast<uint32_t>(w.r(d.s(3), l)) : total;
        if (bytes > total) {
            throw LaneFault{l, fmt::format("cp.async source size {} exceeds the copy size {}", bytes, total)};
        }
        if (from % total != 0) throw LaneFault{l, fmt::format("misaligned cp.async source 0x{:x} for a {}-byte copy", from, total)};
        // Check both ends now, so a bad copy is reported where it is issued.
        access(w, l, Space::shared, to, total, Access::probe);
        if (bytes) access(w, l, Space::global, from, bytes, Access::probe);
        w.copies.push_back(PendingCopy{static_cast<uint32_t>(l), w.committed[static_cast<size_t>(l)], static_cast<uint32_t>(to),
                                       from, bytes, total});
    });
}

void h_cp_commit(Warp& w, const DInstr&, uint32_t mask) {
    for_lanes(mask, [&](int l) { ++w.committed[static_cast<size_t>(l)]; });
}

void h_cp_wait(Warp& w, const DInstr& d, uint32_t mask) {
    const int keep = d.in->nops == 0 ? -1 : static_cast<int>(d.in->operand(0).bits);
    for_lanes(mask, [&](int l) { complete_copies(w, l, keep); });
}

// A prefetch only warms a cache; the interpreter checks that its address is one the kernel could load.
void h_prefetch(Warp& w, const DInstr& d, uint32_t mask) {
    const DAddr& a = d.addr[0];
    for_lanes(mask, [&](int l) { access(w, l, a.space, address_of(w, a, l), 1, Access::probe); });
}

void h_nothing(Warp&, const DInstr&, uint32_t) {}  // fences: the interpreter is sequentially consistent

}  // namespace

Handler select_memory_handler(const Instr& in) {
    switch (in.op) {
    case Op::ld: return &h_ld;
    case Op::st: return &h_st;
    case Op::atom: case Op::red:
        return bit_width(in.type) == 64 ? &h_atomic<uint64_t> : &h_atomic<uint32_t>;
    case Op::cp_async: return &h_cp_async;
    case Op::cp_async_commit: return &h_cp_commit;
    case Op::cp_async_wait: return &h_cp_wait;
    case Op::prefetch: return &h_prefetch;
    case Op::membar: case Op::fence: return &h_nothing;
    // The interpreter runs one grid at a time: a grid's predecessors have finished before it starts.
    case Op::griddep_wait: case Op::griddep_launch: return &h_nothing;
    default: return nullptr;
    }
}

}  // namespace ptxgen::interp
