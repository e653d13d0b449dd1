// The Reader's state, shared by the parser (reader.cpp) and the accessors (reader_access.cpp).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "gguf/gguf.hpp"
#include "gguf/mapped_file.hpp"

namespace llm::gguf {

struct Reader::Impl {
    std::string path;
    MappedFile mapping;              // when opened from a path
    std::vector<uint8_t> owned;      // when parsed from memory
    std::span<const uint8_t> bytes;  // whichever of the two holds the file

    uint32_t version = 0;
    uint32_t alignment = default_alignment;
    uint64_t data_offset = 0;

    std::vector<std::pair<std::string, Value>> metadata;
    std::vector<uint64_t> value_offsets;   // where each metadata value starts, for messages
    std::map<std::string, size_t, std::less<>> key_index;
    std::vector<TensorInfo> tensors;
    std::map<std::string, size_t, std::less<>> tensor_index;
};

// Fills everything after `bytes` and `path`; throws GgufError.
void parse_gguf(Reader::Impl& impl);

}  // namespace llm::gguf
