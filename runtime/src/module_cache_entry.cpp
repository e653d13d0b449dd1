// Encoding and checking cache files (layout in module_cache_entry.hpp). Every field is written
// byte by byte, never through a struct, so the layout does not depend on padding or byte order.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_entry.hpp"

namespace ptxsmith::runtime {

namespace {

constexpr size_t kVersionAt = 8, kSizeAt = 12, kPayloadShaAt = 20, kKeyAt = 52;

void put_le(uint8_t* out, uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

uint64_t get_le(const uint8_t* in, int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= uint64_t{in[i]} << (8 * i);
    return value;
}

// The 32 bytes that the key's 64 hex digits spell.
Sha256::Digest key_bytes(const std::string& key) {
    if (!is_cache_key(key)) throw Error(fmt::format("module cache: '{}' is not a cache key", key));
    const auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
    Sha256::Digest out;
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(nibble(key[2 * i]) << 4 | nibble(key[2 * i + 1]));
    return out;
}

}  // namespace

EntryHeaderBytes encode_entry_header(const std::string& key, std::span<const uint8_t> payload) {
    EntryHeaderBytes h{};
    std::memcpy(h.data(), kEntryMagic, sizeof kEntryMagic);
    put_le(h.data() + kVersionAt, kCacheFormatVersion, 4);
    put_le(h.data() + kSizeAt, payload.size(), 8);
    const Sha256::Digest sum = sha256(payload);
    std::copy(sum.begin(), sum.end(), h.begin() + kPayloadShaAt);
    const Sha256::Digest k = key_bytes(key);
    std::copy(k.begin(), k.end(), h.begin() + kKeyAt);
    return h;
}

std::vector<uint8_t> encode_cache_entry(const std::string& key, std::span<const uint8_t> payload) {
    const EntryHeaderBytes h = encode_entry_header(key, payload);
    // Sized once and filled with copies (an insert after the header trips a false GCC 12
    // -Warray-bounds report).
    std::vector<uint8_t> file(h.size() + payload.size());
    std::copy(h.begin(), h.end(), file.begin());
    std::copy(payload.begin(), payload.end(), file.begin() + static_cast<ptrdiff_t>(h.size()));
    return file;
}

EntryHeader check_entry_header(std::span<const uint8_t> header, const std::string& key, uint64_t file_size) {
    EntryHeader out;
    // Magic first: a file that is not ours at all is "foreign", whatever its length.
    const size_t magic_seen = std::min(header.size(), sizeof kEntryMagic);
    if (file_size == 0) {
        out.problem = "empty file";
    } else if (!std::equal(header.begin(), header.begin() + static_cast<ptrdiff_t>(magic_seen), kEntryMagic)) {
        out.problem = "not a ptxsmith cache entry (bad magic)";
    } else if (header.size() < kEntryHeaderBytes) {
        out.problem = fmt::format("truncated header ({} of {} bytes)", header.size(), kEntryHeaderBytes);
    } else if (const uint64_t version = get_le(header.data() + kVersionAt, 4); version != kCacheFormatVersion) {
        out.problem = fmt::format("format version {} (expected {})", version, kCacheFormatVersion);
    } else if (!std::equal(header.begin() + kKeyAt, header.begin() + kKeyAt + 32, key_bytes(key).begin())) {
        out.problem = "the header names another key";
    } else {
        out.payload_size = get_le(header.data() + kSizeAt, 8);
        std::copy(header.begin() + kPayloadShaAt, header.begin() + kPayloadShaAt + 32, out.payload_sha256.begin());
        const uint64_t present = file_size - kEntryHeaderBytes;  // header.size() <= file_size
        if (present != out.payload_size) {
            out.problem = fmt::format("{} (payload of {} bytes, header says {})",
                                      present < out.payload_size ? "truncated" : "trailing bytes", present,
                                      out.payload_size);
        }
    }
    return out;
}

DecodedEntry decode_cache_entry(std::span<const uint8_t> file, const std::string& key) {
    DecodedEntry out;
    const EntryHeader h = check_entry_header(file.first(std::min(file.size(), kEntryHeaderBytes)), key, file.size());
    if (!h.problem.empty()) {
        out.problem = h.problem;
        return out;
    }
    const std::span<const uint8_t> payload = file.subspan(kEntryHeaderBytes);
    if (sha256(payload) != h.payload_sha256) {
        out.problem = "checksum mismatch";
        return out;
    }
    out.payload.assign(payload.begin(), payload.end());
    return out;
}

}  // namespace ptxsmith::runtime
