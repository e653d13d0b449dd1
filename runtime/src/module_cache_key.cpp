// The cache key's serialisation (documented in module_cache_key.hpp), hashed as it is produced.
#include <fmt/format.h>

#include <algorithm>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_key.hpp"
#include "ptxsmith/runtime/sha256.hpp"

namespace ptxsmith::runtime {

namespace {

// Fixed-width little-endian, so that the key does not depend on the host's byte order.
void put_uint(Sha256& h, uint64_t value, int bytes) {
    uint8_t out[8];
    for (int i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
    h.update(out, static_cast<size_t>(bytes));
}

void put_string(Sha256& h, std::string_view s) {
    put_uint(h, s.size(), 8);
    h.update(s);
}

}  // namespace

std::string cache_key(const CacheKeyInputs& inputs) { return cache_key(inputs, kCacheFormatVersion); }

std::string cache_key(const CacheKeyInputs& inputs, uint32_t format_version) {
    std::vector<std::pair<int, int64_t>> options = inputs.jit_options;
    std::sort(options.begin(), options.end());
    for (size_t i = 1; i < options.size(); ++i) {
        if (options[i].first == options[i - 1].first) {
            throw Error(fmt::format("module cache key: JIT option {} is given twice (values {} and {})",
                                    options[i].first, options[i - 1].second, options[i].second));
        }
    }
    Sha256 h;
    put_uint(h, format_version, 4);
    put_string(h, inputs.ptx);
    put_string(h, inputs.target);
    put_uint(h, options.size(), 8);
    for (const auto& [id, value] : options) {
        put_uint(h, static_cast<uint32_t>(id), 4);
        put_uint(h, static_cast<uint64_t>(value), 8);
    }
    put_uint(h, static_cast<uint32_t>(inputs.driver_version), 4);
    return h.hex_digest();
}

bool is_cache_key(std::string_view text) {
    return text.size() == 64 &&
           std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace ptxsmith::runtime
