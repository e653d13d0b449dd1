// A hash map keyed by std::string that answers look-ups by std::string_view without building a
// string (the merge loops look up every candidate pair).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace llm {

struct StringViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

template <class Value>
using StringMap = std::unordered_map<std::string, Value, StringViewHash, std::equal_to<>>;

}  // namespace llm
