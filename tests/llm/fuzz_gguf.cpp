// libFuzzer entry point for the GGUF reader: any input must give a Reader or a GgufError; any
// other exception, crash, over-read or undefined behaviour is a finding. What parses is also read
// through every accessor and written back with the Writer, and must read back the same.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "gguf/gguf.hpp"

using namespace llm::gguf;

namespace {

// Stops the run loudly: libFuzzer reports the input that got here.
void require(bool ok) {
    if (!ok) std::abort();
}

void use_accessors(const Reader& r) {
    for (const auto& [key, v] : r.metadata()) {
        require(r.find(key) == &v);
        try { (void)r.get<uint32_t>(key); } catch (const GgufError&) {}
        try { (void)r.get<int64_t>(key); } catch (const GgufError&) {}
        try { (void)r.get<float>(key); } catch (const GgufError&) {}
        try { (void)r.get<bool>(key); } catch (const GgufError&) {}
        try { (void)r.get<std::string>(key); } catch (const GgufError&) {}
        try { (void)r.get_strings(key); } catch (const GgufError&) {}
        try { (void)r.get_f32s(key); } catch (const GgufError&) {}
        try { (void)r.get_i32s(key); } catch (const GgufError&) {}
    }
    for (const auto& t : r.tensors()) {
        require(r.find_tensor(t.name) == &t);
        require(r.tensor_data(t).size() == t.bytes);
    }
}

void write_back(const Reader& r) {
    // Alignments up to 2^31 are valid, but padding a tensor to one would take gigabytes.
    if (r.alignment() > 4096) return;
    std::vector<uint8_t> bytes;
    try {
        Writer w(default_alignment, r.version());
        for (const auto& [key, v] : r.metadata()) w.set(key, v);
        for (const auto& t : r.tensors()) {
            const auto data = r.tensor_data(t);
            w.add_tensor(t.name, t.ne, t.type, {data.begin(), data.end()});
        }
        bytes = w.to_bytes();
    } catch (const GgufError&) {
        return;   // the writer is stricter than the reader (tensor names of 64 bytes)
    }
    const Reader again = Reader::parse(bytes, "written-back");
    require(again.metadata() == r.metadata());
    require(again.alignment() == r.alignment());
    require(again.tensors().size() == r.tensors().size());
    for (size_t i = 0; i < r.tensors().size(); ++i) {
        const auto& a = r.tensors()[i];
        const auto& b = again.tensors()[i];
        require(a.name == b.name && a.ne == b.ne && a.type == b.type && a.bytes == b.bytes);
        const auto da = r.tensor_data(a);
        const auto db = again.tensor_data(b);
        require(std::equal(da.begin(), da.end(), db.begin(), db.end()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const Reader r = Reader::parse({data, size}, "fuzz.gguf");
        use_accessors(r);
        write_back(r);
    } catch (const GgufError&) {
    }
    return 0;
}
