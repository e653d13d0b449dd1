// Simulated device memory, kernel arguments, and the checked access path every load, store,
// atomic and copy of the interpreter goes through.
#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "exec.hpp"
#include "ptxgen/error.hpp"

namespace ptxgen::interp {

namespace {
// Device addresses start high (like a GPU's) and buffers are separated by unmapped gaps.
constexpr uint64_t kFirstAddress = 0x0000700000000000ull;
constexpr uint64_t kGap = 1 << 20;
}  // namespace

DeviceMemory::DeviceMemory() : next_address_(kFirstAddress) {}
DeviceMemory::~DeviceMemory() = default;

uint64_t DeviceMemory::alloc(size_t bytes, std::string name) {
    auto b = std::make_unique<Buffer>();
    b->address = next_address_;
    b->name = std::move(name);
    b->bytes.assign(bytes, 0);
    next_address_ += (bytes + kGap + 255) / 256 * 256;
    const uint64_t address = b->address;
    buffers_.push_back(std::move(b));  // addresses only grow, so the list stays sorted
    return address;
}

void DeviceMemory::free(uint64_t address) {
    auto it = std::find_if(buffers_.begin(), buffers_.end(), [&](const auto& b) { return b->address == address; });
    if (it == buffers_.end()) throw ptxsmith::Error(fmt::format("free of 0x{:x}, which is not the start of a buffer", address));
    buffers_.erase(it);
}

DeviceMemory::Buffer* DeviceMemory::find(uint64_t address, size_t bytes) {
    auto it = std::upper_bound(buffers_.begin(), buffers_.end(), address,
                               [](uint64_t a, const std::unique_ptr<Buffer>& b) { return a < b->address; });
    if (it == buffers_.begin()) return nullptr;
    Buffer* b = std::prev(it)->get();
    if (address - b->address + bytes > b->bytes.size()) return nullptr;
    return b;
}

const DeviceMemory::Buffer* DeviceMemory::nearest(uint64_t address) const {
    const Buffer* best = nullptr;
    uint64_t best_distance = ~uint64_t{0};
    for (const auto& b : buffers_) {
        const uint64_t end = b->address + b->bytes.size();
        const uint64_t d = address < b->address ? b->address - address : address >= end ? address - end : 0;
        if (d < best_distance) {
            best = b.get();
            best_distance = d;
        }
    }
    return best;
}

namespace {
DeviceMemory::Buffer& checked(DeviceMemory& m, uint64_t address, size_t bytes, const char* what) {
    DeviceMemory::Buffer* b = m.find(address, bytes);
    if (!b) throw ptxsmith::Error(fmt::format("{} of {} bytes at 0x{:x} is outside every buffer", what, bytes, address));
    return *b;
}
}  // namespace

void DeviceMemory::write(uint64_t address, const void* src, size_t bytes) {
    Buffer& b = checked(*this, address, bytes, "write");
    std::memcpy(b.bytes.data() + (address - b.address), src, bytes);
}

void DeviceMemory::read(uint64_t address, void* dst, size_t bytes) const {
    Buffer& b = checked(const_cast<DeviceMemory&>(*this), address, bytes, "read");
    std::memcpy(dst, b.bytes.data() + (address - b.address), bytes);
}

void DeviceMemory::fill(uint64_t address, uint8_t byte, size_t bytes) {
    Buffer& b = checked(*this, address, bytes, "fill");
    std::memset(b.bytes.data() + (address - b.address), byte, bytes);
}

ArgList& ArgList::raw(const void* bytes, size_t size) {
    const auto* p = static_cast<const uint8_t*>(bytes);
    values_.emplace_back(p, p + size);
    return *this;
}

namespace {

std::string describe_global_miss(const DeviceMemory& mem, uint64_t address, uint32_t bytes) {
    const DeviceMemory::Buffer* b = mem.nearest(address);
    if (!b) return fmt::format("address 0x{:x} ({} bytes): no buffer is allocated", address, bytes);
    const uint64_t end = b->address + b->bytes.size();
    if (address >= end) {
        return fmt::format("address 0x{:x} ({} bytes) is {} bytes past the end of buffer '{}' ({} bytes at 0x{:x})", address,
                           bytes, address - end, b->name, b->bytes.size(), b->address);
    }
    if (address < b->address) {
        return fmt::format("address 0x{:x} ({} bytes) is {} bytes before buffer '{}' ({} bytes at 0x{:x})", address, bytes,
                           b->address - address, b->name, b->bytes.size(), b->address);
    }
    return fmt::format("address 0x{:x} ({} bytes) runs past the end of buffer '{}' ({} bytes at 0x{:x})", address, bytes,
                       b->name, b->bytes.size(), b->address);
}

void check_shared(Warp& w, int lane, uint32_t offset, uint32_t bytes, Access kind) {
    const bool write = kind != Access::read;
    Cta& c = *w.cta;
    if (c.shadow.empty()) return;
    const Options& o = w.grid->options;
    const uint32_t me = w.thread(lane);
    for (uint32_t i = offset; i < offset + bytes; ++i) {
        SharedShadow& s = c.shadow[i];
        if (!write && o.check_uninitialized_shared && !s.written) {
            throw LaneFault{lane, fmt::format("read of shared byte {} that no thread of the CTA has written", i)};
        }
        if (o.check_shared_races && kind != Access::atomic) {
            // Another thread of this warp before one of its whole-warp bar.warp.sync is ordered.
            auto warp_synced = [&](uint32_t warp, uint32_t syncs) { return warp == w.index && syncs != w.warp_syncs; };
            const bool other_wrote = s.write_epoch == c.epoch && s.writer != me && !warp_synced(s.writer / 32, s.write_syncs);
            const bool other_read = s.read_epoch == c.epoch && (s.several_readers || s.reader != me) &&
                                    !warp_synced(s.read_warp, s.read_syncs);
            if (other_wrote || (write && other_read)) {
                const uint32_t other = other_wrote ? s.writer : s.reader;
                throw LaneFault{lane, fmt::format("shared-memory race on byte {}: thread {} {} it and this thread {} it with "
                                                  "no barrier between", i, other, other_wrote ? "wrote" : "read",
                                                  write ? "writes" : "reads")};
            }
        }
        if (write) {
            s.writer = me;
            s.write_epoch = c.epoch;
            s.write_syncs = w.warp_syncs;
            s.written = true;
        } else if (s.read_epoch != c.epoch) {
            s.reader = me;
            s.read_epoch = c.epoch;
            s.read_warp = w.index;
            s.read_syncs = w.warp_syncs;
            s.several_readers = false;
        } else if (s.reader != me) {
            s.several_readers = true;
            if (s.read_warp != w.index) s.read_warp = SharedShadow::kNobody;
            s.read_syncs = w.warp_syncs;
        }
    }
}

}  // namespace

uint8_t* access(Warp& w, int lane, Space space, uint64_t address, uint32_t bytes, Access kind) {
    const bool write = kind == Access::write || kind == Access::atomic;
    if (std::has_single_bit(bytes) && bytes <= 16 && address % bytes != 0) {
        throw LaneFault{lane, fmt::format("misaligned {}-byte {} at address 0x{:x}", bytes, write ? "store" : "load", address)};
    }
    if (space == Space::generic) space = address - kSharedWindow < (uint64_t{1} << 32) ? Space::shared : Space::global;
    Cta& c = *w.cta;
    switch (space) {
    case Space::shared: {
        const uint64_t offset = address >= kSharedWindow ? address - kSharedWindow : address;
        if (offset + bytes > c.shared.size()) {
            throw LaneFault{lane, fmt::format("out-of-bounds shared {} of {} bytes at offset {}: the CTA has {} bytes of shared "
                                              "memory", write ? "store" : "load", bytes, offset, c.shared.size())};
        }
        if (kind != Access::probe) check_shared(w, lane, static_cast<uint32_t>(offset), bytes, kind);
        return c.shared.data() + offset;
    }
    case Space::local: {
        const uint32_t per_thread = w.grid->prog.local_bytes;
        if (address + bytes > per_thread) {
            throw LaneFault{lane, fmt::format("out-of-bounds local access of {} bytes at offset {}: each thread has {} bytes",
                                              bytes, address, per_thread)};
        }
        return c.local.data() + size_t{w.thread(lane)} * per_thread + address;
    }
    case Space::param: {
        const auto& blob = w.grid->params;
        if (write || address + bytes > blob.size()) {
            throw LaneFault{lane, fmt::format("parameter access of {} bytes at offset {} is outside the {} bytes of parameters",
                                              bytes, address, blob.size())};
        }
        return const_cast<uint8_t*>(blob.data()) + address;
    }
    default: {
        DeviceMemory::Buffer* b = w.grid->mem.find(address, bytes);
        if (!b) {
            throw LaneFault{lane, fmt::format("out-of-bounds global {}: {}", write ? "store" : "load",
                                              describe_global_miss(w.grid->mem, address, bytes))};
        }
        return b->bytes.data() + (address - b->address);
    }
    }
}

void complete_copies(Warp& w, int lane, int keep) {
    const uint32_t committed = w.committed[static_cast<size_t>(lane)];
    auto done = [&](const PendingCopy& c) {
        if (c.lane != static_cast<uint32_t>(lane)) return false;
        return keep < 0 || c.group + static_cast<uint32_t>(keep) < committed;
    };
    for (const PendingCopy& c : w.copies) {
        if (!done(c)) continue;
        uint8_t* dst = access(w, lane, Space::shared, c.shared_offset, c.total, Access::write);
        if (c.bytes) std::memcpy(dst, access(w, lane, Space::global, c.global_address, c.bytes, Access::read), c.bytes);
        std::memset(dst + c.bytes, 0, c.total - c.bytes);
    }
    std::erase_if(w.copies, done);
}

}  // namespace ptxgen::interp
