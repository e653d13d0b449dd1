// The cache key and the entry file format: every input changes the key and nothing else does;
// every kind of damage to an entry file is refused.
#include <doctest/doctest.h>

#include <set>

#include "cache_test_support.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_entry.hpp"
#include "ptxsmith/runtime/sha256.hpp"

using namespace cache_test;

namespace {

rt::CacheKeyInputs base_inputs() {
    rt::CacheKeyInputs in;
    in.ptx = ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry k() { ret; }\n";
    in.target = "sm_90";
    in.jit_options = {{0, 32}, {7, 4}, {15, 1}};
    in.driver_version = 12040;
    return in;
}

}  // namespace

TEST_CASE("cache key: 64 hex digits, the same for the same inputs") {
    const std::string a = rt::cache_key(base_inputs());
    CHECK(rt::is_cache_key(a));
    CHECK(rt::cache_key(base_inputs()) == a);
    CHECK(rt::cache_key(base_inputs(), rt::kCacheFormatVersion) == a);
    CHECK_FALSE(rt::is_cache_key(a.substr(1)));
    CHECK_FALSE(rt::is_cache_key("../" + a.substr(3)));
    std::string upper = a;
    upper[0] = 'A';
    CHECK_FALSE(rt::is_cache_key(upper));
}

TEST_CASE("cache key: changing any byte of the PTX changes it, and every variant differs") {
    const rt::CacheKeyInputs base = base_inputs();
    std::set<std::string> keys{rt::cache_key(base)};
    for (size_t i = 0; i < base.ptx.size(); ++i) {
        rt::CacheKeyInputs in = base;
        in.ptx[i] = static_cast<char>(in.ptx[i] ^ 1);
        keys.insert(rt::cache_key(in));
    }
    rt::CacheKeyInputs longer = base;
    longer.ptx += ' ';
    keys.insert(rt::cache_key(longer));
    rt::CacheKeyInputs shorter = base;
    shorter.ptx.pop_back();
    keys.insert(rt::cache_key(shorter));
    CHECK(keys.size() == base.ptx.size() + 3);
}

TEST_CASE("cache key: target, each option, the driver and the format version each change it") {
    const rt::CacheKeyInputs base = base_inputs();
    std::set<std::string> keys{rt::cache_key(base)};
    size_t variants = 1;
    const auto add = [&](const rt::CacheKeyInputs& in) {
        keys.insert(rt::cache_key(in));
        ++variants;
    };
    for (const char* target : {"sm_80", "sm_90a", "sm_9", ""}) {
        rt::CacheKeyInputs in = base;
        in.target = target;
        add(in);
    }
    for (size_t i = 0; i < base.jit_options.size(); ++i) {
        rt::CacheKeyInputs value = base;
        value.jit_options[i].second += 1;
        add(value);
        rt::CacheKeyInputs id = base;
        id.jit_options[i].first += 100;
        add(id);
        rt::CacheKeyInputs dropped = base;
        dropped.jit_options.erase(dropped.jit_options.begin() + static_cast<ptrdiff_t>(i));
        add(dropped);
    }
    rt::CacheKeyInputs extra = base;
    extra.jit_options.push_back({20, 0});
    add(extra);
    rt::CacheKeyInputs negative = base;
    negative.jit_options[0].second = -32;
    add(negative);
    rt::CacheKeyInputs driver = base;
    driver.driver_version = 12050;
    add(driver);
    keys.insert(rt::cache_key(base, rt::kCacheFormatVersion + 1));
    ++variants;
    CHECK(keys.size() == variants);
}

TEST_CASE("cache key: option order does not matter; an option given twice is an error") {
    rt::CacheKeyInputs a = base_inputs();
    rt::CacheKeyInputs b = a;
    b.jit_options = {{15, 1}, {0, 32}, {7, 4}};
    CHECK(rt::cache_key(a) == rt::cache_key(b));
    b.jit_options.push_back({7, 5});
    CHECK_THROWS_AS(rt::cache_key(b), ptxsmith::Error);
}

TEST_CASE("cache key: length prefixes keep fields apart") {
    rt::CacheKeyInputs a = base_inputs();
    rt::CacheKeyInputs b = a;
    a.ptx = "ab";
    a.target = "c";
    b.ptx = "a";
    b.target = "bc";
    CHECK(rt::cache_key(a) != rt::cache_key(b));
}

TEST_CASE("cache key: SHA-256 of the serialisation the header documents") {
    // Written out by hand here, so that a change to the serialisation without a new format
    // version fails this test.
    const rt::CacheKeyInputs in = base_inputs();
    std::vector<uint8_t> bytes;
    const auto le = [&](uint64_t v, int n) {
        for (int i = 0; i < n; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    const auto str = [&](const std::string& s) {
        le(s.size(), 8);
        bytes.insert(bytes.end(), s.begin(), s.end());
    };
    le(rt::kCacheFormatVersion, 4);
    str(in.ptx);
    str(in.target);
    le(3, 8);
    for (auto [id, value] : {std::pair<int, int64_t>{0, 32}, {7, 4}, {15, 1}}) {
        le(static_cast<uint32_t>(id), 4);
        le(static_cast<uint64_t>(value), 8);
    }
    le(12040, 4);
    CHECK(rt::cache_key(in) == rt::to_hex(rt::sha256(bytes)));
}

TEST_CASE("entry format: a valid entry decodes to its payload") {
    const std::string key = key_for(1);
    for (size_t size : {0u, 1u, 100u, 5000u}) {
        const std::vector<uint8_t> payload = payload_for(key, size);
        const std::vector<uint8_t> file = rt::encode_cache_entry(key, payload);
        CHECK(file.size() == rt::kEntryHeaderBytes + size);
        CHECK(std::equal(file.begin(), file.begin() + 8, "PTXSMITH"));
        const rt::DecodedEntry d = rt::decode_cache_entry(file, key);
        CHECK(d.problem.empty());
        CHECK(d.payload == payload);
    }
}

TEST_CASE("entry format: truncation at any length, extra bytes and damage to any field are refused") {
    const std::string key = key_for(2);
    const std::vector<uint8_t> good = rt::encode_cache_entry(key, payload_for(key, 64));
    for (size_t n = 0; n < good.size(); ++n) {
        const std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(n));
        INFO("truncated to " << n);
        CHECK_FALSE(rt::decode_cache_entry(cut, key).problem.empty());
    }
    std::vector<uint8_t> longer = good;
    longer.push_back(0);
    CHECK(rt::decode_cache_entry(longer, key).problem.find("trailing") != std::string::npos);
    // One flipped bit anywhere: magic, version, size, checksum, key or payload.
    for (size_t at = 0; at < good.size(); ++at) {
        std::vector<uint8_t> bad = good;
        bad[at] ^= 0x10;
        INFO("bit flipped at byte " << at);
        CHECK_FALSE(rt::decode_cache_entry(bad, key).problem.empty());
    }
    CHECK(rt::decode_cache_entry(good, key_for(3)).problem == "the header names another key");
    const std::string text = "not a cache entry at all, just some text that happens to be long enough to be a header\n";
    CHECK(rt::decode_cache_entry(std::vector<uint8_t>(text.begin(), text.end()), key).problem.find("magic") !=
          std::string::npos);
}
