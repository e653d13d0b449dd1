// The module cache's levels on one thread: level 1 and level 2 hits, damaged entries, failures,
// the readonly and off modes, and least-recently-used eviction.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <stdexcept>

#include "cache_test_support.hpp"
#include "ptxgen/error.hpp"
#include "ptxsmith/runtime/module_cache_entry.hpp"

using namespace cache_test;
namespace fs = std::filesystem;

namespace {

// A compile function that counts its calls and returns the key's payload.
struct Compiler {
    std::string key;
    size_t size = 100;
    int calls = 0;
    rt::CompileFn fn() {
        return [this] {
            ++calls;
            return payload_for(key, size);
        };
    }
};

std::shared_ptr<Loaded> get(rt::ModuleCache<Loaded>& cache, Compiler& c) {
    return cache.get_or_load(c.key, c.fn(), load_bytes);
}

// An mtime `seconds` ago, set explicitly: file timestamps are too coarse to order writes made
// microseconds apart.
void age(const fs::path& p, int seconds) {
    fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::seconds(seconds));
}

double seconds_old(const fs::path& p) {
    return std::chrono::duration<double>(fs::file_time_type::clock::now() - fs::last_write_time(p)).count();
}

}  // namespace

TEST_CASE("module cache: a miss compiles, loads and writes; the next request is a level 1 hit") {
    TempDir dir;
    Warnings w;
    rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
    Compiler c{key_for(1)};
    int loads = 0;
    const auto load = [&](const std::vector<uint8_t>& bytes) {
        ++loads;
        return load_bytes(bytes);
    };
    std::shared_ptr<Loaded> first = cache.get_or_load(c.key, c.fn(), load);
    std::shared_ptr<Loaded> second = cache.get_or_load(c.key, c.fn(), load);
    CHECK(first->bytes == payload_for(c.key));
    CHECK(first == second);
    CHECK(c.calls == 1);
    CHECK(loads == 1);
    const rt::CacheStats s = cache.stats();
    CHECK(s.misses == 1);
    CHECK(s.l1_hits == 1);
    CHECK(s.l2_hits == 0);
    CHECK(s.compile_seconds >= 0);
    CHECK(s.load_seconds >= 0);

    // On disk as <dir>/<2 hex>/<key>.cubin, in the entry format.
    const fs::path entry = dir.path() / c.key.substr(0, 2) / (c.key + ".cubin");
    REQUIRE(fs::exists(entry));
    CHECK(rt::decode_cache_entry(read_file(entry), c.key).payload == payload_for(c.key));
    CHECK(cache.summary().entries == 1);
    CHECK(cache.summary().bytes == rt::kEntryHeaderBytes + 100);
    CHECK(cache.summary().temporaries == 0);
    CHECK(w.count() == 0);
}

TEST_CASE("module cache: after a restart, the entry on disk loads without compiling") {
    TempDir dir;
    Warnings w;
    Compiler c{key_for(2), 3000};
    {
        rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
        get(cache, c);
    }
    rt::ModuleCache<Loaded> restarted(settings_for(dir.path(), w));
    std::shared_ptr<Loaded> m = get(restarted, c);
    CHECK(m->bytes == payload_for(c.key, 3000));
    CHECK(c.calls == 1);
    CHECK(restarted.stats().l2_hits == 1);
    CHECK(restarted.stats().misses == 0);
    get(restarted, c);
    CHECK(restarted.stats().l1_hits == 1);
    CHECK(w.count() == 0);
}

TEST_CASE("module cache: a damaged, truncated or foreign entry is reported once, removed and rebuilt") {
    const std::string key = key_for(3);
    const std::vector<uint8_t> good = rt::encode_cache_entry(key, payload_for(key));
    struct Damage {
        const char* name;
        std::vector<uint8_t> bytes;
    };
    std::vector<Damage> damages;
    {
        std::vector<uint8_t> b = good;
        b[rt::kEntryHeaderBytes + 50] ^= 1;
        damages.push_back({"payload bit flipped", b});
        b = good;
        b[30] ^= 1;
        damages.push_back({"checksum bit flipped", b});
        b = good;
        b[8] = static_cast<uint8_t>(rt::kCacheFormatVersion + 1);
        damages.push_back({"another format version", b});
        damages.push_back({"truncated payload", std::vector<uint8_t>(good.begin(), good.end() - 40)});
        damages.push_back({"truncated header", std::vector<uint8_t>(good.begin(), good.begin() + 20)});
        damages.push_back({"empty", {}});
        const std::string text = "#!/bin/sh\necho this is not a cubin\n";
        damages.push_back({"foreign file", std::vector<uint8_t>(text.begin(), text.end())});
        const std::string other = key_for(4);
        damages.push_back({"another key's entry", rt::encode_cache_entry(other, payload_for(other))});
    }
    for (const Damage& d : damages) {
        CAPTURE(d.name);
        TempDir dir;
        Warnings w;
        const fs::path entry = dir.path() / key.substr(0, 2) / (key + ".cubin");
        write_file(entry, d.bytes);

        Compiler c{key};
        rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
        CHECK(get(cache, c)->bytes == payload_for(key));
        CHECK(c.calls == 1);
        CHECK(cache.stats().corrupt_dropped == 1);
        CHECK(cache.stats().misses == 1);
        REQUIRE(w.count() == 1);
        CHECK(w.lines()[0].find(entry.string()) != std::string::npos);
        CHECK(read_file(entry) == good);  // rebuilt

        rt::ModuleCache<Loaded> again(settings_for(dir.path(), w));
        get(again, c);
        CHECK(again.stats().l2_hits == 1);
        CHECK(c.calls == 1);
        CHECK(w.count() == 1);
    }
}

TEST_CASE("module cache: a damaged entry read twice is reported once") {
    TempDir dir;
    Warnings w;
    const std::string key = key_for(5);
    const fs::path entry = dir.path() / key.substr(0, 2) / (key + ".cubin");
    const std::vector<uint8_t> junk = {1, 2, 3};
    write_file(entry, junk);
    // Readonly keeps the file, so both reads find it damaged.
    rt::DiskCache disk(settings_for(dir.path(), w, rt::CacheMode::readonly));
    CHECK_FALSE(disk.read(key).has_value());
    CHECK_FALSE(disk.read(key).has_value());
    CHECK(w.count() == 1);
    CHECK(read_file(entry) == junk);
}

TEST_CASE("module cache: a failed compile reaches the caller and is not remembered") {
    TempDir dir;
    Warnings w;
    rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
    const std::string key = key_for(6);
    int calls = 0;
    const auto failing = [&]() -> std::vector<uint8_t> {
        ++calls;
        throw ptxsmith::Error("ptxas: syntax error");
    };
    CHECK_THROWS_WITH_AS(cache.get_or_load(key, failing, load_bytes), "ptxas: syntax error", ptxsmith::Error);
    CHECK_THROWS_AS(cache.get_or_load(key, failing, load_bytes), ptxsmith::Error);
    CHECK(calls == 2);
    CHECK(cache.summary().entries == 0);
    Compiler c{key};
    CHECK(get(cache, c)->bytes == payload_for(key));
}

TEST_CASE("module cache: bytes that fail to load are neither written nor kept") {
    TempDir dir;
    Warnings w;
    const std::string key = key_for(7);
    const std::vector<uint8_t> stale = {9, 9, 9};
    const auto picky_load = [&](const std::vector<uint8_t>& bytes) {
        if (bytes == stale) throw ptxsmith::Error("CUDA_ERROR_INVALID_IMAGE");
        return load_bytes(bytes);
    };
    {
        // A freshly compiled module that does not load: the error reaches the caller, nothing is written.
        rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
        CHECK_THROWS_AS(cache.get_or_load(key, [&] { return stale; }, picky_load), ptxsmith::Error);
        CHECK(cache.summary().entries == 0);
    }
    // A valid entry whose bytes do not load: dropped, recompiled, rewritten.
    rt::DiskCache(settings_for(dir.path(), w)).write(key, stale);
    rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
    Compiler c{key};
    CHECK(cache.get_or_load(key, c.fn(), picky_load)->bytes == payload_for(key));
    CHECK(c.calls == 1);
    CHECK(cache.stats().unloadable_dropped == 1);
    CHECK(w.count() == 1);
    CHECK(rt::DiskCache(settings_for(dir.path(), w)).read(key) == payload_for(key));
}

TEST_CASE("module cache: bad keys and empty loads are errors") {
    TempDir dir;
    Warnings w;
    rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
    Compiler c{"../../etc/passwd"};
    CHECK_THROWS_AS(get(cache, c), ptxsmith::Error);
    CHECK(c.calls == 0);
    Compiler d{key_for(8)};
    CHECK_THROWS_AS(cache.get_or_load(d.key, d.fn(), [](const std::vector<uint8_t>&) { return std::shared_ptr<Loaded>(); }),
                    ptxsmith::Error);
}

TEST_CASE("module cache: mode off touches no disk") {
    TempDir dir;
    Warnings w;
    const fs::path where = dir.path() / "cache";
    Compiler c{key_for(9)};
    for (int run = 0; run < 2; ++run) {
        rt::ModuleCache<Loaded> cache(settings_for(where, w, rt::CacheMode::off));
        CHECK(get(cache, c)->bytes == payload_for(c.key));
        CHECK(get(cache, c)->bytes == payload_for(c.key));  // level 1 still works
        CHECK(cache.stats().misses == 1);
        CHECK(cache.stats().l1_hits == 1);
    }
    CHECK(c.calls == 2);
    CHECK_FALSE(fs::exists(where));
}

TEST_CASE("module cache: readonly reads entries but never writes, refreshes or removes") {
    TempDir dir;
    Warnings w;
    Compiler stored{key_for(10)};
    {
        rt::ModuleCache<Loaded> writer(settings_for(dir.path(), w));
        get(writer, stored);
    }
    const fs::path entry = dir.path() / stored.key.substr(0, 2) / (stored.key + ".cubin");
    age(entry, 600);
    const auto mtime = fs::last_write_time(entry);

    rt::ModuleCache<Loaded> reader(settings_for(dir.path(), w, rt::CacheMode::readonly));
    CHECK(get(reader, stored)->bytes == payload_for(stored.key));
    CHECK(reader.stats().l2_hits == 1);
    CHECK(fs::last_write_time(entry) == mtime);

    Compiler missing{key_for(11)};
    CHECK(get(reader, missing)->bytes == payload_for(missing.key));
    CHECK(missing.calls == 1);
    CHECK(reader.summary().entries == 1);
    CHECK_THROWS_AS(reader.clear(), ptxsmith::Error);
    CHECK(fs::exists(entry));
    CHECK(w.count() == 0);
}

TEST_CASE("module cache: least recently used entries go when the size limit is passed") {
    TempDir dir;
    Warnings w;
    const uint64_t entry_bytes = rt::kEntryHeaderBytes + 100;
    const rt::CacheSettings s = settings_for(dir.path(), w, rt::CacheMode::on, 3 * entry_bytes);
    std::vector<Compiler> c;
    for (int i = 0; i < 5; ++i) c.push_back(Compiler{key_for(20 + i)});
    const auto path_of = [&](int i) { return dir.path() / c[i].key.substr(0, 2) / (c[i].key + ".cubin"); };
    {
        rt::ModuleCache<Loaded> cache(s);
        for (int i = 0; i < 3; ++i) get(cache, c[i]);
        CHECK(cache.stats().evicted == 0);
    }
    age(path_of(0), 300);
    age(path_of(1), 200);
    age(path_of(2), 100);

    rt::ModuleCache<Loaded> cache(s);
    get(cache, c[0]);  // a level 2 hit makes entry 0 the most recently used
    CHECK(cache.stats().l2_hits == 1);
    CHECK(seconds_old(path_of(0)) < 60);

    get(cache, c[3]);  // four entries: the oldest, entry 1, goes
    CHECK(cache.stats().evicted == 1);
    CHECK(fs::exists(path_of(0)));
    CHECK_FALSE(fs::exists(path_of(1)));
    CHECK(fs::exists(path_of(2)));
    CHECK(fs::exists(path_of(3)));
    CHECK(cache.summary().bytes == 3 * entry_bytes);

    // An entry bigger than the whole limit is not written, and evicts nothing.
    Compiler huge{key_for(30), 4 * entry_bytes};
    CHECK(get(cache, huge)->bytes.size() == 4 * entry_bytes);
    CHECK_FALSE(fs::exists(dir.path() / huge.key.substr(0, 2) / (huge.key + ".cubin")));
    CHECK(cache.summary().entries == 3);
    CHECK(cache.stats().evicted == 1);
}

TEST_CASE("module cache: eviction spares the entry just written even when it looks oldest") {
    // A clock step or a coarse network file system can give the new file an old mtime.
    TempDir dir;
    Warnings w;
    const uint64_t entry_bytes = rt::kEntryHeaderBytes + 100;
    rt::DiskCache roomy(settings_for(dir.path(), w));
    for (int i = 0; i < 3; ++i) roomy.write(key_for(70 + i), payload_for(key_for(70 + i)));
    for (int i = 0; i < 3; ++i) age(roomy.entry_path(key_for(70 + i)), 300 - 100 * i);
    rt::DiskCache tight(settings_for(dir.path(), w, rt::CacheMode::on, 2 * entry_bytes));
    CHECK(tight.evict(key_for(70)) == 1);
    CHECK(fs::exists(tight.entry_path(key_for(70))));
    CHECK_FALSE(fs::exists(tight.entry_path(key_for(71))));
    CHECK(fs::exists(tight.entry_path(key_for(72))));
}

TEST_CASE("module cache: clear removes entries and temporaries, and nothing else") {
    TempDir dir;
    Warnings w;
    rt::ModuleCache<Loaded> cache(settings_for(dir.path(), w));
    for (int i = 0; i < 4; ++i) {
        Compiler c{key_for(40 + i)};
        get(cache, c);
    }
    const std::string key = key_for(40);
    const fs::path shard = dir.path() / key.substr(0, 2);
    write_file(shard / (key + ".cubin.tmp.123.0.deadbeef"), {1});  // a writer that died
    write_file(dir.path() / "notes.txt", {1});
    write_file(shard / "README", {1});
    write_file(dir.path() / "zz" / (key + ".cubin"), {1});  // not in its shard: not ours
    const rt::CacheSummary before = cache.summary();
    CHECK(before.entries == 4);
    CHECK(before.temporaries == 1);

    cache.clear();
    CHECK(cache.summary().entries == 0);
    CHECK(cache.summary().temporaries == 0);
    CHECK(fs::exists(dir.path() / "notes.txt"));
    CHECK(fs::exists(shard / "README"));
    CHECK(fs::exists(dir.path() / "zz" / (key + ".cubin")));

    // Level 1 was forgotten too: the next request goes to the (now empty) disk and compiles.
    Compiler again{key};
    get(cache, again);
    CHECK(again.calls == 1);
}

TEST_CASE("module cache: stale temporaries go at the next eviction, fresh ones stay") {
    TempDir dir;
    Warnings w;
    const std::string key = key_for(50);
    const fs::path shard = dir.path() / key.substr(0, 2);
    const fs::path stale = shard / (key + ".cubin.tmp.1.0.00000001");
    const fs::path fresh = shard / (key + ".cubin.tmp.2.0.00000002");
    write_file(stale, {1});
    write_file(fresh, {1});
    age(stale, 2 * 3600);
    rt::DiskCache disk(settings_for(dir.path(), w));
    disk.evict();
    CHECK_FALSE(fs::exists(stale));
    CHECK(fs::exists(fresh));
}

TEST_CASE("module cache: a directory that cannot be written is reported once; modules still load") {
    TempDir dir;
    Warnings w;
    // A regular file where the directory should be: fails even for root, unlike permissions.
    write_file(dir.path() / "file", {1});
    rt::ModuleCache<Loaded> cache(settings_for(dir.path() / "file" / "cache", w));
    for (int i = 0; i < 3; ++i) {
        Compiler c{key_for(60 + i)};
        CHECK(get(cache, c)->bytes == payload_for(c.key));
    }
    CHECK(cache.stats().write_failures == 3);
    CHECK(w.count() == 1);
}
