// What the interpreter reports instead of corrupting memory or hanging: out-of-bounds and
// misaligned accesses, barriers that some threads never reach, warp-synchronous instructions whose
// member lanes diverge, shared-memory races and uninitialized reads (when asked to look), and
// launches whose arguments do not fit the kernel. Every report must name the kernel, the
// instruction, the block and the thread.
#include <cctype>

#include "interp_harness.hpp"

using namespace itest;

namespace {

// The integers that follow the first occurrence of `word` (case-insensitive), up to `count`.
std::vector<long> numbers_after(const std::string& message, const std::string& word, size_t count) {
    std::vector<long> out;
    const std::string m = lower(message);
    size_t at = m.find(lower(word));
    if (at == std::string::npos) return out;
    at += word.size();
    while (out.size() < count && at < m.size()) {
        if (std::isdigit(static_cast<unsigned char>(m[at]))) {
            size_t end = at;
            while (end < m.size() && std::isdigit(static_cast<unsigned char>(m[end]))) ++end;
            out.push_back(std::stol(m.substr(at, end - at)));
            at = end;
        } else if (std::isalpha(static_cast<unsigned char>(m[at]))) {
            break;  // the next word: no more coordinates
        } else {
            ++at;
        }
    }
    return out;
}

// Checks that the report names the kernel, the instruction's text, and the coordinates of the
// block and the thread (as many components as the message gives, at least x).
void check_report(const std::string& message, const Kernel& k, size_t instruction, interp::Dim3 block, interp::Dim3 thread) {
    INFO("message: ", message);
    CHECK(message.find(k.name) != std::string::npos);
    CHECK(message.find(instruction_text(k, instruction)) != std::string::npos);
    for (const auto& place : {std::pair{std::string("block"), block}, std::pair{std::string("thread"), thread}}) {
        const std::string& word = place.first;
        const interp::Dim3& where = place.second;
        std::vector<long> xyz = numbers_after(message, word, 3);
        CAPTURE(word);
        REQUIRE_FALSE(xyz.empty());
        const long want[3] = {where.x, where.y, where.z};
        for (size_t c = 0; c < xyz.size(); ++c) CHECK(xyz[c] == want[c]);
    }
}

// Whether the message shows the address, in hex (any case, with or without 0x) or decimal.
bool mentions_address(const std::string& message, uint64_t address) {
    const std::string m = lower(message);
    return m.find(fmt::format("{:x}", address)) != std::string::npos || m.find(fmt::format("{}", address)) != std::string::npos;
}

// A run that must stop with an error: it finishes (no hang) and throws ptxsmith::Error.
std::string expect_error(const Kernel& k, const interp::Launch& launch, const Device& dev, const interp::ArgList& args,
                         const interp::Options& options = {}) {
    RunOutcome r = run_guarded(k, launch, dev, args, options);
    INFO("kernel ", k.name);
    REQUIRE_MESSAGE(r.finished, "the run did not finish within the time limit: a hang instead of an error");
    CHECK_MESSAGE(r.threw, "the run finished without an error");
    CHECK_MESSAGE(r.message.find("(not a ptxsmith::Error)") == std::string::npos, r.message);
    if (std::getenv("ITEST_VERBOSE")) MESSAGE("reported: ", r.message);
    return r.message;
}

// A run that must complete without an error.
void expect_success(const Kernel& k, const interp::Launch& launch, const Device& dev, const interp::ArgList& args,
                    const interp::Options& options = {}) {
    RunOutcome r = run_guarded(k, launch, dev, args, options);
    INFO("kernel ", k.name);
    REQUIRE_MESSAGE(r.finished, "the run did not finish within the time limit");
    CHECK_MESSAGE(!r.threw, r.message);
}

// out[i] = in[i + shift] for i < n: with shift 1 the last thread reads one element past the end.
Kernel shifted_copy(const std::string& name, uint32_t n, uint32_t load_shift, uint32_t store_shift) {
    KernelBuilder b(name);
    GlobalPtr in = b.param_ptr("in", Type::u32), out = b.param_ptr("out", Type::u32);
    Reg<u32> i = b.global_index_x();
    b.if_(b.setp(Cmp::lt, i, n), [&] {
        Reg<u32> v = b.ld<u32>(b.index(in, b.add(i, load_shift), 4)[0]);
        b.st(b.index(out, b.add(i, store_shift), 4)[0], v);
    });
    return b.finish();
}

TEST_CASE("an out-of-bounds global load names the buffer, the address, the kernel, the instruction and the thread") {
    const uint32_t n = 200, block = 64;  // the last thread, 199, is block 3 thread 7
    Kernel k = shifted_copy("oob_load", n, 1, 0);
    Device dev;
    uint64_t in = dev.upload(std::vector<uint32_t>(n, 1), "input_buffer");
    uint64_t out = dev.poisoned<uint32_t>(n, "output_buffer");
    interp::ArgList args;
    args.ptr(in).ptr(out);
    std::string msg = expect_error(k, launch_1d(ceil_div(n, block), block), dev, args);
    INFO("message: ", msg);
    CHECK(msg.find("input_buffer") != std::string::npos);
    CHECK(mentions_address(msg, in + 4 * n));
    check_report(msg, k, find_instruction(k, Op::ld, Space::global), {3, 0, 0}, {7, 0, 0});
}

TEST_CASE("prefetch.global.L2 changes nothing, and an address the kernel could not load is an error") {
    // The kernels only prefetch what they will load, so the interpreter holds prefetches to the
    // same bounds as loads instead of silently dropping a stray one.
    const uint32_t n = 200, block = 64;
    for (uint32_t shift : {0u, 1u}) {
        KernelBuilder b(shift ? "oob_prefetch" : "prefetch_copy");
        GlobalPtr in = b.param_ptr("in", Type::u32), out = b.param_ptr("out", Type::u32);
        Reg<u32> i = b.global_index_x();
        b.if_(b.setp(Cmp::lt, i, n), [&] {
            b.prefetch_l2(b.index(in, b.add(i, shift), 4)[0]);
            b.st(b.index(out, i, 4)[0], b.ld<u32>(b.index(in, i, 4)[0]));
        });
        Kernel k = b.finish();
        Device dev;
        std::vector<uint32_t> values(n);
        for (uint32_t j = 0; j < n; ++j) values[j] = 3 * j + 1;
        uint64_t src = dev.upload(values, "input_buffer");
        uint64_t dst = dev.poisoned<uint32_t>(n, "output_buffer");
        interp::ArgList args;
        args.ptr(src).ptr(dst);
        if (shift == 0) {
            expect_success(k, launch_1d(ceil_div(n, block), block), dev, args);
            CHECK(dev.download<uint32_t>(dst, n) == values);
        } else {
            std::string msg = expect_error(k, launch_1d(ceil_div(n, block), block), dev, args);
            CHECK(msg.find("input_buffer") != std::string::npos);
            check_report(msg, k, find_instruction(k, Op::prefetch, Space::global), {3, 0, 0}, {7, 0, 0});
        }
    }
}

TEST_CASE("an out-of-bounds global store is reported before it lands in memory") {
    const uint32_t n = 200, block = 64;
    Kernel k = shifted_copy("oob_store", n, 0, 1);
    Device dev;
    uint64_t in = dev.upload(std::vector<uint32_t>(n, 1), "input_buffer");
    uint64_t out = dev.poisoned<uint32_t>(n, "output_buffer");
    // A neighbouring buffer, allocated right after: the stray store must not land in it.
    uint64_t neighbour = dev.poisoned<uint32_t>(64, "neighbour");
    interp::ArgList args;
    args.ptr(in).ptr(out);
    std::string msg = expect_error(k, launch_1d(ceil_div(n, block), block), dev, args);
    INFO("message: ", msg);
    CHECK(msg.find("output_buffer") != std::string::npos);
    CHECK(mentions_address(msg, out + 4 * n));
    check_report(msg, k, find_instruction(k, Op::st, Space::global), {3, 0, 0}, {7, 0, 0});
    for (uint32_t v : dev.download<uint32_t>(neighbour, 64)) CHECK(v == 0xffffffffu);
}

TEST_CASE("a store through a null pointer is an error") {
    Kernel k = shifted_copy("null_store", 32, 0, 0);
    Device dev;
    interp::ArgList args;
    args.ptr(dev.upload(std::vector<uint32_t>(32, 1), "input_buffer")).ptr(0);
    std::string msg = expect_error(k, launch_1d(1, 32), dev, args);
    INFO("message: ", msg);
    CHECK(msg.find("null_store") != std::string::npos);
}

// Reads tile[t + offset_words] from a 64-word shared array; only thread `bad_thread` uses the offset.
Kernel shared_reader(const std::string& name, uint32_t bad_thread, uint32_t offset_words) {
    KernelBuilder b(name);
    GlobalPtr out = b.param_ptr("out", Type::u32);
    SharedArray tile = b.shared_array("tile", 64 * 4, 16);
    Reg<u32> t = b.tid_x();
    b.st(b.index(b.addr_of(tile), t, 4)[0], t);
    b.bar_sync();
    Reg<u32> index = b.add(t, b.selp<u32>(offset_words, 0u, b.setp(Cmp::eq, t, bad_thread)));
    b.st(b.index(out, t, 4)[0], b.ld<u32>(b.index(b.addr_of(tile), index, 4)[0]));
    return b.finish();
}

TEST_CASE("out-of-bounds shared memory accesses") {
    Device dev;
    uint64_t out = dev.poisoned<uint32_t>(64, "out");
    interp::ArgList args;
    args.ptr(out);
    SUBCASE("far beyond the CTA's shared memory") {
        Kernel k = shared_reader("oob_shared_far", 41, 1u << 16);
        std::string msg = expect_error(k, launch_1d(1, 64), dev, args);
        check_report(msg, k, find_instruction(k, Op::ld, Space::shared), {0, 0, 0}, {41, 0, 0});
    }
    SUBCASE("just past the end of the only shared array") {
        Kernel k = shared_reader("oob_shared_edge", 63, 1);  // thread 63 reads word 64 of 64
        std::string msg = expect_error(k, launch_1d(1, 64), dev, args);
        check_report(msg, k, find_instruction(k, Op::ld, Space::shared), {0, 0, 0}, {63, 0, 0});
    }
}

TEST_CASE("a misaligned v4 load is an error") {
    KernelBuilder b("misaligned_v4");
    GlobalPtr in = b.param_ptr("in", Type::f32), out = b.param_ptr("out", Type::f32);
    Reg<u32> i = b.global_index_x();
    // Thread 5 loads from byte offset 16*5 + 4: 4-byte aligned but not 16-byte aligned.
    Reg<u32> skew = b.selp<u32>(4u, 0u, b.setp(Cmp::eq, i, 5u));
    GlobalPtr at = b.offset(b.index(in, i, 16), b.cvt<u64>(skew));
    auto v = b.ld_v<f32, 4>(at[0]);
    b.st_v<f32, 4>(b.index(out, i, 16)[0], v);
    Kernel k = b.finish();
    Device dev;
    uint64_t inb = dev.upload(std::vector<float>(4 * 32 + 4, 1.0f), "in");
    interp::ArgList args;
    args.ptr(inb).ptr(dev.poisoned<float>(4 * 32, "out"));
    std::string msg = expect_error(k, launch_1d(1, 32), dev, args);
    INFO("message: ", msg);
    CHECK(lower(msg).find("align") != std::string::npos);
    CHECK(mentions_address(msg, inb + 16 * 5 + 4));
    check_report(msg, k, find_instruction(k, Op::ld, Space::global), {0, 0, 0}, {5, 0, 0});
}

TEST_CASE("bar.sync that only some threads reach is an error, not a hang") {
    Device dev;
    interp::ArgList args;
    SUBCASE("whole warps skip the barrier") {
        KernelBuilder b("partial_barrier");
        Reg<u32> t = b.tid_x();
        b.if_(b.setp(Cmp::lt, t, 64u), [&] { b.bar_sync(); });  // warps 0-1 of 4 wait; warps 2-3 exit
        Kernel k = b.finish();
        std::string msg = expect_error(k, launch_1d(2, 128), dev, args);
        INFO("message: ", msg);
        CHECK(msg.find("partial_barrier") != std::string::npos);
        CHECK(msg.find(instruction_text(k, find_instruction(k, Op::bar)) ) != std::string::npos);
    }
    SUBCASE("lanes of one warp diverge around the barrier") {
        KernelBuilder b("divergent_barrier");
        Reg<u32> lane = b.laneid();
        b.if_(b.setp(Cmp::ne, b.and_(lane, 1u), 0u), [&] { b.bar_sync(); });
        Kernel k = b.finish();
        std::string msg = expect_error(k, launch_1d(1, 64), dev, args);
        INFO("message: ", msg);
        CHECK(msg.find("divergent_barrier") != std::string::npos);
        CHECK(msg.find(instruction_text(k, find_instruction(k, Op::bar))) != std::string::npos);
    }
}

// In lanes 0-15 only: v = shfl.bfly(v, 1) with the given member mask.
Kernel half_warp_shuffle(const std::string& name, uint32_t mask) {
    KernelBuilder b(name);
    GlobalPtr out = b.param_ptr("out", Type::u32);
    Reg<u32> lane = b.laneid();
    Reg<u32> v = b.mul_lo(lane, 10u);
    b.if_(b.setp(Cmp::lt, lane, 16u), [&] { b.mov(v, b.shfl_bfly(v, 1u, mask)); });
    b.st(b.index(out, b.tid_x(), 4)[0], v);
    return b.finish();
}

TEST_CASE("shfl.sync whose member mask names lanes that are not there is an error; a matching mask is fine") {
    Device dev;
    uint64_t out = dev.poisoned<uint32_t>(32, "out");
    interp::ArgList args;
    args.ptr(out);
    Kernel bad = half_warp_shuffle("shfl_diverged", 0xffffffffu);
    std::string msg = expect_error(bad, launch_1d(1, 32), dev, args);
    INFO("message: ", msg);
    check_report(msg, bad, find_instruction(bad, Op::shfl), {0, 0, 0}, {0, 0, 0});

    Kernel good = half_warp_shuffle("shfl_half_warp", 0x0000ffffu);
    dev.mem().fill(out, 0xff, 32 * 4);
    expect_success(good, launch_1d(1, 32), dev, args);
    auto got = dev.download<uint32_t>(out, 32);
    for (uint32_t l = 0; l < 32; ++l) {
        CAPTURE(l);
        CHECK(got[l] == (l < 16 ? (l ^ 1) * 10 : l * 10));
    }
}

TEST_CASE("vote and redux with a member mask that does not match the active lanes are errors") {
    Device dev;
    uint64_t out = dev.poisoned<uint32_t>(32, "out");
    interp::ArgList args;
    args.ptr(out);
    KernelBuilder b("ballot_diverged");
    GlobalPtr o = b.param_ptr("out", Type::u32);
    Reg<u32> lane = b.laneid();
    b.if_(b.setp(Cmp::lt, lane, 20u), [&] { b.st(b.index(o, lane, 4)[0], b.vote_ballot(b.setp(Cmp::eq, lane, 3u))); });
    Kernel k = b.finish();
    std::string msg = expect_error(k, launch_1d(1, 32), dev, args);
    check_report(msg, k, find_instruction(k, Op::vote), {0, 0, 0}, {0, 0, 0});
}

// Thread `first` stores to shared word 0, then (optionally after bar.sync) thread `second` stores
// to it or loads it.
enum class Between { nothing, bar_sync, warp_sync };

Kernel shared_conflict(const std::string& name, uint32_t first, uint32_t second, bool second_writes, Between between) {
    KernelBuilder b(name);
    GlobalPtr out = b.param_ptr("out", Type::u32);
    SharedArray word = b.shared_array("word", 4, 4);
    Reg<u32> t = b.tid_x();
    b.predicated(b.setp(Cmp::eq, t, first), [&] { b.st(word[0], t); });
    if (between == Between::bar_sync) b.bar_sync();
    if (between == Between::warp_sync) b.bar_warp_sync();
    b.if_(b.setp(Cmp::eq, t, second), [&] {
        if (second_writes) {
            b.st(word[0], t);
        } else {
            b.st(out[0], b.ld<u32>(word[0]));
        }
    });
    return b.finish();
}

TEST_CASE("check_shared_races: a planted race is reported, the fixed version passes, and the check is off by default") {
    Device dev;
    uint64_t out = dev.poisoned<uint32_t>(1, "out");
    interp::ArgList args;
    args.ptr(out);
    interp::Options checked;
    checked.check_shared_races = true;
    SUBCASE("two threads of different warps write one word") {
        Kernel race = shared_conflict("write_write_race", 0, 33, true, Between::nothing);
        std::string msg = expect_error(race, launch_1d(1, 64), dev, args, checked);
        INFO("message: ", msg);
        CHECK(msg.find("write_write_race") != std::string::npos);
        CHECK(lower(msg).find("race") != std::string::npos);
        expect_success(race, launch_1d(1, 64), dev, args);  // not looked for unless asked
        expect_success(shared_conflict("write_write_fixed", 0, 33, true, Between::bar_sync), launch_1d(1, 64), dev, args, checked);
    }
    SUBCASE("one thread writes, another reads, no barrier between") {
        Kernel race = shared_conflict("write_read_race", 3, 40, false, Between::nothing);
        std::string msg = expect_error(race, launch_1d(1, 64), dev, args, checked);
        INFO("message: ", msg);
        CHECK(msg.find("write_read_race") != std::string::npos);
        expect_success(shared_conflict("write_read_fixed", 3, 40, false, Between::bar_sync), launch_1d(1, 64), dev, args, checked);
        CHECK(dev.download<uint32_t>(out, 1)[0] == 3);
    }
    SUBCASE("bar.warp.sync orders the lanes of its warp, not those of other warps") {
        std::string msg = expect_error(shared_conflict("same_warp_race", 3, 20, false, Between::nothing), launch_1d(1, 64),
                                       dev, args, checked);
        CHECK(msg.find("same_warp_race") != std::string::npos);
        expect_success(shared_conflict("same_warp_synced", 3, 20, false, Between::warp_sync), launch_1d(1, 64), dev, args, checked);
        CHECK(dev.download<uint32_t>(out, 1)[0] == 3);
        expect_success(shared_conflict("same_warp_write_write", 5, 30, true, Between::warp_sync), launch_1d(1, 64), dev, args,
                       checked);
        msg = expect_error(shared_conflict("other_warp_race", 3, 40, false, Between::warp_sync), launch_1d(1, 64), dev, args,
                           checked);
        CHECK(msg.find("other_warp_race") != std::string::npos);
    }
}

TEST_CASE("check_uninitialized_shared: reading shared memory nothing has written") {
    Device dev;
    uint64_t out = dev.poisoned<uint32_t>(64, "out");
    interp::ArgList args;
    args.ptr(out);
    interp::Options checked;
    checked.check_uninitialized_shared = true;
    // Threads below `written` store tile[t]; after a barrier every thread loads tile[63 - t].
    auto kernel = [](const std::string& name, uint32_t written) {
        KernelBuilder b(name);
        GlobalPtr o = b.param_ptr("out", Type::u32);
        SharedArray tile = b.shared_array("tile", 64 * 4, 16);
        Reg<u32> t = b.tid_x();
        b.predicated(b.setp(Cmp::lt, t, written), [&] { b.st(b.index(b.addr_of(tile), t, 4)[0], t); });
        b.bar_sync();
        Reg<u32> mirror = b.sub(b.mov<u32>(63u), t);
        b.st(b.index(o, t, 4)[0], b.ld<u32>(b.index(b.addr_of(tile), mirror, 4)[0]));
        return b.finish();
    };
    Kernel partial = kernel("uninitialized_read", 48);  // words 48-63 are never written: threads 0-15 read them
    std::string msg = expect_error(partial, launch_1d(1, 64), dev, args, checked);
    INFO("message: ", msg);
    CHECK(msg.find("uninitialized_read") != std::string::npos);
    CHECK(msg.find(instruction_text(partial, find_instruction(partial, Op::ld, Space::shared))) != std::string::npos);
    expect_success(partial, launch_1d(1, 64), dev, args);  // not looked for unless asked
    Kernel full = kernel("initialized_read", 64);
    expect_success(full, launch_1d(1, 64), dev, args, checked);
    auto got = dev.download<uint32_t>(out, 64);
    for (uint32_t t = 0; t < 64; ++t) CHECK(got[t] == 63 - t);
}

TEST_CASE("arguments that do not match the parameter list are rejected before anything runs") {
    KernelBuilder b("takes_ptr_and_u32");
    GlobalPtr out = b.param_ptr("out", Type::u32);
    Reg<u32> n = b.param<u32>("count");
    b.st(out[0], n);
    Kernel k = b.finish();
    Device dev;
    uint64_t o = dev.poisoned<uint32_t>(1, "out");
    const interp::Launch one = launch_1d(1, 1);
    SUBCASE("too few") {
        interp::ArgList args;
        args.ptr(o);
        std::string msg = expect_error(k, one, dev, args);
        CHECK(msg.find("takes_ptr_and_u32") != std::string::npos);
    }
    SUBCASE("too many") {
        interp::ArgList args;
        args.ptr(o).u32(1).u32(2);
        std::string msg = expect_error(k, one, dev, args);
        CHECK(msg.find("takes_ptr_and_u32") != std::string::npos);
    }
    SUBCASE("a u64 for the u32 parameter") {
        interp::ArgList args;
        args.ptr(o).u64(1);
        std::string msg = expect_error(k, one, dev, args);
        INFO("message: ", msg);
        CHECK(msg.find("takes_ptr_and_u32") != std::string::npos);
        CHECK(msg.find("count") != std::string::npos);
    }
    SUBCASE("a u32 for the pointer") {
        interp::ArgList args;
        args.u32(0).u32(1);
        std::string msg = expect_error(k, one, dev, args);
        INFO("message: ", msg);
        CHECK(msg.find("out") != std::string::npos);
    }
    CHECK(dev.download<uint32_t>(o, 1)[0] == 0xffffffffu);  // nothing ran
    SUBCASE("the right arguments run") {
        interp::ArgList args;
        args.ptr(o).u32(77);
        expect_success(k, one, dev, args);
        CHECK(dev.download<uint32_t>(o, 1)[0] == 77);
    }
}

TEST_CASE("a block larger than .reqntid, or a zero-sized launch, is rejected") {
    KernelBuilder b("fixed_block");
    b.reqntid(64);
    GlobalPtr out = b.param_ptr("out", Type::u32);
    b.st(b.index(out, b.tid_x(), 4)[0], b.tid_x());
    Kernel k = b.finish();
    Device dev;
    interp::ArgList args;
    args.ptr(dev.poisoned<uint32_t>(128, "out"));
    std::string msg = expect_error(k, launch_1d(1, 128), dev, args);
    CHECK(msg.find("fixed_block") != std::string::npos);
    expect_error(k, launch_1d(0, 64), dev, args);
}

}  // namespace
