// The layout of one cache file: a fixed header, then the payload (the cubin). Integers little-endian.
//   offset  size  field
//        0     8  magic "PTXSMITH"
//        8     4  format version (kCacheFormatVersion)
//       12     8  payload size in bytes
//       20    32  SHA-256 of the payload
//       52    32  the entry's key (the 32 bytes its hex digits spell), so that a file copied or
//                 renamed under another key's name is refused
//       84     -  payload
// The file's size must be exactly 84 + payload size.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ptxsmith/runtime/module_cache_key.hpp"
#include "ptxsmith/runtime/sha256.hpp"

namespace ptxsmith::runtime {

inline constexpr size_t kEntryHeaderBytes = 84;
inline constexpr char kEntryMagic[8] = {'P', 'T', 'X', 'S', 'M', 'I', 'T', 'H'};

using EntryHeaderBytes = std::array<uint8_t, kEntryHeaderBytes>;

// The header for `payload` stored under `key` (a cache_key()).
EntryHeaderBytes encode_entry_header(const std::string& key, std::span<const uint8_t> payload);
// Header and payload together: the whole file.
std::vector<uint8_t> encode_cache_entry(const std::string& key, std::span<const uint8_t> payload);

// What a header says, and why it cannot be an entry for `key` in a file of `file_size` bytes
// ("" when it can). `header` holds the file's first min(file_size, 84) bytes.
struct EntryHeader {
    uint64_t payload_size = 0;
    Sha256::Digest payload_sha256{};
    std::string problem;
};
EntryHeader check_entry_header(std::span<const uint8_t> header, const std::string& key, uint64_t file_size);

// A whole file checked, header and payload checksum: the payload when it is valid, else the problem.
struct DecodedEntry {
    std::vector<uint8_t> payload;
    std::string problem;  // empty when the file is a valid entry for the key
};
DecodedEntry decode_cache_entry(std::span<const uint8_t> file, const std::string& key);

}  // namespace ptxsmith::runtime
