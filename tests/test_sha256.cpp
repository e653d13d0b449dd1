// SHA-256 against the FIPS 180-4 example vectors, and the incremental API against one-shot hashing
// at every split point around the 64-byte block and the 56-byte padding boundary.
#include <doctest/doctest.h>

#include <string>

#include "ptxsmith/runtime/sha256.hpp"

using ptxsmith::runtime::Sha256;
using ptxsmith::runtime::sha256_hex;

TEST_CASE("SHA-256 of the FIPS 180-4 example messages") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    CHECK(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu") ==
          "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST_CASE("SHA-256 of one million 'a', fed in uneven pieces") {
    const std::string expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    CHECK(sha256_hex(std::string(1000000, 'a')) == expected);
    Sha256 h;
    const std::string piece(997, 'a');  // a prime, so pieces straddle block boundaries differently
    size_t fed = 0;
    while (fed + piece.size() <= 1000000) {
        h.update(piece);
        fed += piece.size();
    }
    h.update(std::string(1000000 - fed, 'a'));
    CHECK(h.hex_digest() == expected);
}

TEST_CASE("SHA-256 incremental updates equal one-shot hashing at every split point") {
    for (size_t length : {0u, 1u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u, 200u}) {
        std::string message;
        for (size_t i = 0; i < length; ++i) message += static_cast<char>('!' + (i * 7) % 90);
        const std::string whole = sha256_hex(message);
        for (size_t split = 0; split <= length; ++split) {
            Sha256 h;
            h.update(std::string_view(message).substr(0, split));
            h.update(std::string_view(message).substr(split));
            INFO("length " << length << " split " << split);
            CHECK(h.hex_digest() == whole);
        }
    }
}

TEST_CASE("SHA-256 digest() leaves the state alone: hashing can go on after it") {
    Sha256 h;
    h.update("ab");
    CHECK(h.hex_digest() == sha256_hex("ab"));
    CHECK(h.hex_digest() == sha256_hex("ab"));
    h.update("c");
    CHECK(h.hex_digest() == sha256_hex("abc"));
    CHECK(h.digest() == ptxsmith::runtime::sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("abc"), 3)));
}
