#include "kernels/check.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <random>

#include "ptxgen/error.hpp"
#include "ptxgen/half.hpp"

namespace kernels {

using ptxgen::Type;

namespace {

// An element of a buffer as a double, for comparison.
double element(const HostBuffer& b, size_t i) {
    const uint8_t* p = b.bytes.data() + i * static_cast<size_t>(ptxgen::byte_size(b.spec.type));
    switch (b.spec.type) {
    case Type::f32: { float v; std::memcpy(&v, p, 4); return v; }
    case Type::f64: { double v; std::memcpy(&v, p, 8); return v; }
    case Type::f16: { uint16_t v; std::memcpy(&v, p, 2); return ptxgen::f16_bits_to_f32(v); }
    case Type::bf16: { uint16_t v; std::memcpy(&v, p, 2); return ptxgen::bf16_bits_to_f32(v); }
    case Type::s8: return static_cast<int8_t>(*p);
    case Type::u8: case Type::b8: return *p;
    case Type::s16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case Type::u16: case Type::b16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case Type::s32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case Type::u32: case Type::b32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case Type::s64: { int64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
    default: { uint64_t v; std::memcpy(&v, p, 8); return static_cast<double>(v); }
    }
}

void fill_random(HostBuffer& b, std::mt19937_64& rng) {
    const size_t n = b.spec.count;
    const Type t = b.spec.type;
    std::uniform_real_distribution<float> real(-1.0f, 1.0f);
    for (size_t i = 0; i < n; ++i) {
        uint8_t* p = b.bytes.data() + i * static_cast<size_t>(ptxgen::byte_size(t));
        switch (t) {
        case Type::f32: { float v = real(rng); std::memcpy(p, &v, 4); break; }
        case Type::f64: { double v = real(rng); std::memcpy(p, &v, 8); break; }
        case Type::f16: { uint16_t v = ptxgen::f32_to_f16_bits(real(rng)); std::memcpy(p, &v, 2); break; }
        case Type::bf16: { uint16_t v = ptxgen::f32_to_bf16_bits(real(rng)); std::memcpy(p, &v, 2); break; }
        default: {  // integers and raw bytes: every bit random
            uint64_t v = rng();
            std::memcpy(p, &v, static_cast<size_t>(ptxgen::byte_size(t)));
        }
        }
    }
}

}  // namespace

std::vector<HostBuffer> make_host_args(const KernelInstance& k, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<HostBuffer> args;
    for (const ArgSpec& spec : k.args()) {
        HostBuffer b{spec, std::vector<uint8_t>(spec.count * static_cast<size_t>(ptxgen::byte_size(spec.type)), 0)};
        if (spec.role == Role::output) {
            std::fill(b.bytes.begin(), b.bytes.end(), uint8_t{0xff});
        } else {
            fill_random(b, rng);
        }
        args.push_back(std::move(b));
    }
    k.prepare_inputs(args, seed);
    return args;
}

Comparison compare_outputs(const std::vector<HostBuffer>& got, const std::vector<HostBuffer>& want, double tolerance) {
    Comparison c;
    c.tolerance = tolerance;
    c.pass = true;
    for (size_t a = 0; a < want.size(); ++a) {
        const HostBuffer& w = want[a];
        if (w.spec.role != Role::output && w.spec.role != Role::inout) continue;
        double scale = 0;
        for (size_t i = 0; i < w.spec.count; ++i) scale = std::max(scale, std::fabs(element(w, i)));
        scale = std::max(scale, 1e-30);
        for (size_t i = 0; i < w.spec.count; ++i) {
            const double g = element(got[a], i), r = element(w, i);
            double err = std::fabs(g - r);
            if (std::isnan(g) != std::isnan(r) || std::isinf(g) != std::isinf(r)) err = INFINITY;
            if (std::isnan(g) && std::isnan(r)) err = 0;
            if (std::isinf(g) && std::isinf(r) && g == r) err = 0;
            ++c.elements;
            const double rel = err / scale;
            if (c.worst.empty() || err > c.max_abs_error) {
                c.max_abs_error = err;
                c.worst = fmt::format("{}[{}]: got {:.9g}, want {:.9g}", w.spec.name, i, g, r);
            }
            c.max_rel_error = std::max(c.max_rel_error, rel);
            if (!(rel <= tolerance)) c.pass = false;
        }
    }
    if (c.elements == 0) c.pass = false;  // nothing compared is not a pass
    return c;
}

CheckResult check_on_device(ptxsmith::runtime::Device& dev, const KernelInstance& k, uint64_t seed,
                            std::optional<ptxgen::Target> target) {
    namespace rt = ptxsmith::runtime;
    ptxgen::Kernel kernel = k.build(target.value_or(dev.info().target()));
    std::vector<HostBuffer> got = make_host_args(k, seed);
    std::vector<HostBuffer> want = got;
    k.reference(want);

    rt::Args args;
    std::vector<std::unique_ptr<rt::DeviceBuffer>> buffers(got.size());
    for (size_t i = 0; i < got.size(); ++i) {
        const HostBuffer& b = got[i];
        if (b.spec.role == Role::scalar) {
            args.raw(b.bytes.data(), b.bytes.size());
        } else {
            buffers[i] = std::make_unique<rt::DeviceBuffer>(dev, b.bytes.size(), b.spec.name);
            buffers[i]->upload(b.bytes.data());
            args.ptr(buffers[i]->address());
        }
    }
    const LaunchConfig lc = k.launch_config();
    CheckResult result;
    result.device = dev.info().name;
    const uint64_t counted_before = dev.executed_thread_instructions();
    auto t0 = std::chrono::steady_clock::now();
    dev.launch(kernel, rt::Dims{lc.grid, lc.block, lc.shared_bytes}, args);
    dev.synchronize();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    result.thread_instructions = dev.executed_thread_instructions() - counted_before;
    for (size_t i = 0; i < got.size(); ++i) {
        if (got[i].spec.role == Role::output || got[i].spec.role == Role::inout) buffers[i]->download(got[i].bytes.data());
    }
    result.comparison = compare_outputs(got, want, k.tolerance());
    return result;
}

CheckResult check_on_interpreter(const KernelInstance& k, uint64_t seed, const ptxgen::interp::Options& options,
                                 std::optional<ptxgen::Target> target) {
    auto dev = ptxsmith::runtime::open_interp_device(options);
    return check_on_device(*dev, k, seed, target);
}

}  // namespace kernels
