// Targets (SM architecture and PTX ISA version) and what an instruction requires of them.
#pragma once

#include <compare>
#include <string>

namespace ptxgen {

struct PtxVersion {
    int major = 6;
    int minor = 3;

    auto operator<=>(const PtxVersion&) const = default;
    bool operator==(const PtxVersion&) const = default;
    std::string str() const;  // "7.8"
};

// The lowest SM that generated modules name: ptxas of CUDA 13 supports nothing older.
inline constexpr int kMinSm = 75;

// A device architecture: sm_90, or the arch-specific sm_90a when `arch_specific` is set.
struct Target {
    int sm = 90;
    bool arch_specific = false;

    auto operator<=>(const Target&) const = default;
    bool operator==(const Target&) const = default;
    std::string str() const;  // "sm_90a"

    // Parses "sm_90", "sm_90a", "90" or "9.0"; throws ptxsmith::Error naming the text otherwise.
    static Target parse(const std::string& text);
};

// The PTX ISA version that first accepts `.target` of this architecture.
PtxVersion min_ptx_for(const Target& t);

// What one instruction (or a whole module) needs.
struct Requirement {
    int sm = kMinSm;
    PtxVersion ptx{6, 3};
    bool arch_specific = false;  // needs sm_XXa

    // The smallest requirement that covers both.
    Requirement merged(const Requirement& o) const;
    // True when a device of target `t` can run it.
    bool satisfied_by(const Target& t) const;
    std::string str() const;  // "sm_80 / PTX 7.0"
};

}  // namespace ptxgen
