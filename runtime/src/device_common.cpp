// What both devices share: argument packing, launch checks, choosing a device.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace ptxsmith::runtime {

DeviceKind parse_device_kind(const std::string& text) {
    if (text == "auto") return DeviceKind::automatic;
    if (text == "cuda") return DeviceKind::cuda;
    if (text == "interp") return DeviceKind::interp;
    throw ptxsmith::Error(fmt::format("'{}' is not a device: use auto, cuda or interp", text));
}

void check_launch(const ptxgen::Kernel& k, const DeviceInfo& info, const Dims& d, const Args& args) {
    auto bad = [&](const std::string& what) { throw ptxsmith::Error(fmt::format("launch of {}: {}", k.name, what)); };
    const auto& v = args.values();
    if (v.size() != k.params.size()) bad(fmt::format("{} arguments given, the kernel takes {}", v.size(), k.params.size()));
    for (size_t i = 0; i < v.size(); ++i) {
        const size_t want = static_cast<size_t>(ptxgen::byte_size(ptxgen::storage_type(k.params[i].type)));
        if (v[i].size() != want) {
            bad(fmt::format("argument {} ({}) is {} bytes, the parameter is .{} ({} bytes)", i, k.params[i].name, v[i].size(),
                            ptxgen::type_name(k.params[i].type), want));
        }
    }
    const uint64_t threads = uint64_t{d.block[0]} * d.block[1] * d.block[2];
    if (threads == 0 || uint64_t{d.grid[0]} * d.grid[1] * d.grid[2] == 0) bad("grid and block dimensions must be at least 1");
    if (threads > info.max_threads_per_block) {
        bad(fmt::format("{} threads per block; {} allows at most {}", threads, info.name, info.max_threads_per_block));
    }
    if (d.grid[1] > 65535 || d.grid[2] > 65535) bad("grid y and z are at most 65535");
    const uint64_t shared = uint64_t{k.static_shared_bytes()} + d.shared_bytes;
    if (shared > info.shared_per_block_optin) {
        bad(fmt::format("{} bytes of shared memory ({} static + {} dynamic); {} allows at most {} per block", shared,
                        k.static_shared_bytes(), d.shared_bytes, info.name, info.shared_per_block_optin));
    }
}

bool kernel_waits_for_grids(const ptxgen::Kernel& k) {
    return std::any_of(k.code.begin(), k.code.end(), [](const ptxgen::Instr& in) { return in.op == ptxgen::Op::griddep_wait; });
}

ExternalKernel external_kernel(std::string ptx, const std::string& entry) {
    // ".entry NAME(" then ".param .TYPE NAME" items up to ")": enough of PTX's grammar for
    // the signatures compilers emit (NVRTC writes ".param .u64 .ptr .global .align 1 name").
    const std::string marker = ".entry " + entry;
    size_t at = ptx.find(marker);
    while (at != std::string::npos) {
        const size_t after = at + marker.size();
        if (after < ptx.size() && (ptx[after] == '(' || std::isspace(static_cast<unsigned char>(ptx[after])))) break;
        at = ptx.find(marker, after);
    }
    if (at == std::string::npos) throw ptxsmith::Error(fmt::format("the PTX has no .entry {}", entry));
    const size_t open = ptx.find('(', at), close = ptx.find(')', at);
    if (open == std::string::npos || close == std::string::npos || close < open) {
        throw ptxsmith::Error(fmt::format(".entry {}: cannot read its parameter list", entry));
    }
    ExternalKernel k{std::move(ptx), entry, {}};
    const std::string list = k.ptx.substr(open + 1, close - open - 1);
    for (size_t p = list.find(".param"); p != std::string::npos; p = list.find(".param", p + 6)) {
        size_t t = list.find('.', p + 6);
        size_t end = t;
        while (end < list.size() && !std::isspace(static_cast<unsigned char>(list[end]))) ++end;
        const std::string type = list.substr(t + 1, end - t - 1);
        size_t bits = 0;
        for (char c : type) {
            if (std::isdigit(static_cast<unsigned char>(c))) bits = bits * 10 + static_cast<size_t>(c - '0');
        }
        if (bits == 0 || bits % 8 != 0) throw ptxsmith::Error(fmt::format(".entry {}: parameter type .{} is not supported", entry, type));
        k.param_sizes.push_back(bits / 8);
    }
    return k;
}

void check_external_args(const ExternalKernel& k, const Args& args) {
    const auto& v = args.values();
    if (v.size() != k.param_sizes.size()) {
        throw ptxsmith::Error(fmt::format("launch of {}: {} arguments given, the .entry takes {}", k.entry, v.size(), k.param_sizes.size()));
    }
    for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].size() != k.param_sizes[i]) {
            throw ptxsmith::Error(fmt::format("launch of {}: argument {} is {} bytes, the parameter {}", k.entry, i, v[i].size(),
                                              k.param_sizes[i]));
        }
    }
}

Arena::Arena(Device& dev, size_t bytes, const std::string& name) : dev_(dev), name_(name), bytes_(bytes), base_(dev.alloc(bytes, name)) {}

Arena::~Arena() { dev_.free(base_); }

uint64_t Arena::take(size_t bytes, size_t align) {
    if (align == 0 || (align & (align - 1)) != 0) throw ptxsmith::Error(fmt::format("arena {}: alignment {} is not a power of two", name_, align));
    const size_t start = (used_ + align - 1) & ~(align - 1);
    if (start + bytes > bytes_) {
        throw ptxsmith::Error(fmt::format("arena {} is full: {} bytes asked for, {} of {} left", name_, bytes, bytes_ - std::min(start, bytes_),
                                          bytes_));
    }
    used_ = start + bytes;
    return base_ + start;
}

namespace {
void say_once(const std::string& why) {
    static std::once_flag once;
    std::call_once(once, [&] { std::fprintf(stderr, "ptxsmith: using the CPU interpreter: %s\n", why.c_str()); });
}
}  // namespace

std::unique_ptr<Device> open_cuda_device();          // device_cuda.cpp
bool cuda_device_available(std::string* why_not);    // device_cuda.cpp

std::unique_ptr<Device> open_device(DeviceKind kind) {
    switch (kind) {
    case DeviceKind::interp: return open_interp_device();
    case DeviceKind::cuda: return open_cuda_device();
    case DeviceKind::automatic: {
        std::string why;
        if (cuda_device_available(&why)) return open_cuda_device();
        say_once(why);
        return open_interp_device();
    }
    }
    return open_interp_device();
}

}  // namespace ptxsmith::runtime
