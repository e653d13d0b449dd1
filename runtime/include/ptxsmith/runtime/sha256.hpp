// SHA-256 (FIPS 180-4), written here so that the module cache needs no crypto library. Used for
// cache keys and entry checksums: collision resistance matters (a key collision would load the
// wrong kernel), speed hardly does (one hash per compile or per cache read).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ptxsmith::runtime {

class Sha256 {
public:
    using Digest = std::array<uint8_t, 32>;

    Sha256();

    // Appends bytes to the message; any number of calls, any sizes.
    Sha256& update(const void* data, size_t size);
    Sha256& update(std::string_view text) { return update(text.data(), text.size()); }
    Sha256& update(std::span<const uint8_t> bytes) { return update(bytes.data(), bytes.size()); }

    // The hash of everything appended so far. Does not change the state: update() may go on
    // afterwards, and digest() then covers the longer message.
    Digest digest() const;
    std::string hex_digest() const;

private:
    void compress(const uint8_t* block);

    std::array<uint32_t, 8> state_;
    std::array<uint8_t, 64> buffer_{};
    size_t buffered_ = 0;     // bytes of buffer_ in use, always < 64
    uint64_t total_bytes_ = 0;
};

// Lower-case hexadecimal, two characters per byte.
std::string to_hex(std::span<const uint8_t> bytes);

// One-shot helpers.
Sha256::Digest sha256(std::span<const uint8_t> bytes);
std::string sha256_hex(std::string_view text);

}  // namespace ptxsmith::runtime
