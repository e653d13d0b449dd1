#include "ptxgen/target.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "ptxgen/error.hpp"

namespace ptxgen {

std::string PtxVersion::str() const { return fmt::format("{}.{}", major, minor); }

std::string Target::str() const { return fmt::format("sm_{}{}", sm, arch_specific ? "a" : ""); }

Target Target::parse(const std::string& text) {
    std::string s = text;
    if (s.rfind("sm_", 0) == 0) s = s.substr(3);
    Target t;
    if (!s.empty() && s.back() == 'a') {
        t.arch_specific = true;
        s.pop_back();
    }
    if (auto dot = s.find('.'); dot != std::string::npos && dot > 0 && dot + 1 < s.size()) {
        s = s.substr(0, dot) + s.substr(dot + 1);  // "9.0" -> "90"
    }
    bool digits = !s.empty() && s.size() <= 3 && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
    if (!digits) throw ptxsmith::Error(fmt::format("'{}' is not a target: write it as sm_90, sm_90a, 90 or 9.0", text));
    t.sm = std::stoi(s);
    if (t.sm < kMinSm) {
        throw ptxsmith::Error(fmt::format("target {} is older than sm_{}, the oldest architecture ptxgen emits for", text, kMinSm));
    }
    return t;
}

PtxVersion min_ptx_for(const Target& t) {
    // The ISA version that introduced each architecture as a .target.
    struct Intro {
        int sm;
        PtxVersion ptx;
        PtxVersion ptx_arch_specific;
    };
    static constexpr Intro intros[] = {
        {75, {6, 3}, {6, 3}}, {80, {7, 0}, {7, 0}}, {86, {7, 1}, {7, 1}}, {87, {7, 4}, {7, 4}},
        {89, {7, 8}, {7, 8}}, {90, {7, 8}, {8, 0}}, {100, {8, 6}, {8, 6}}, {101, {8, 6}, {8, 6}},
        {103, {8, 8}, {8, 8}}, {110, {9, 0}, {9, 0}}, {120, {8, 7}, {8, 7}}, {121, {8, 8}, {8, 8}},
    };
    PtxVersion best{6, 3};
    for (const Intro& i : intros) {
        if (i.sm <= t.sm) best = std::max(best, t.arch_specific && i.sm == t.sm ? i.ptx_arch_specific : i.ptx);
    }
    return best;
}

Requirement Requirement::merged(const Requirement& o) const {
    return Requirement{std::max(sm, o.sm), std::max(ptx, o.ptx), arch_specific || o.arch_specific};
}

bool Requirement::satisfied_by(const Target& t) const {
    if (arch_specific) return t.arch_specific && t.sm == sm;
    return t.sm >= sm;
}

std::string Requirement::str() const {
    return fmt::format("sm_{}{} / PTX {}", sm, arch_specific ? "a" : "", ptx.str());
}

}  // namespace ptxgen
