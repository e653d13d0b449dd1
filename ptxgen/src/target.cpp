#include "ptxgen/target.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "ptxgen/error.hpp"

namespace ptxgen {

namespace {
// The ISA version that introduced each architecture as a .target. (sm_101 is absent: CUDA 13
// renamed it sm_110.)
struct Intro {
    int sm;
    PtxVersion ptx;
    PtxVersion ptx_arch_specific;
};
constexpr Intro intros[] = {
        {75, {6, 3}, {6, 3}}, {80, {7, 0}, {7, 0}}, {86, {7, 1}, {7, 1}}, {87, {7, 4}, {7, 4}},
        {89, {7, 8}, {7, 8}}, {90, {7, 8}, {8, 0}}, {100, {8, 6}, {8, 6}},
        {103, {8, 8}, {8, 8}}, {110, {9, 0}, {9, 0}}, {120, {8, 7}, {8, 7}}, {121, {8, 8}, {8, 8}},
};
}  // namespace

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
    std::string known;
    for (const Intro& i : intros) {
        if (i.sm == t.sm) return t;
        known += fmt::format("{}sm_{}", known.empty() ? "" : ", ", i.sm);
    }
    throw ptxsmith::Error(fmt::format("target {} is not an architecture ptxgen knows; known: {}", text, known));
}

PtxVersion min_ptx_for(const Target& t) {
    // The entry of this architecture, or of the newest older one for an SM missing from the table.
    // Not the maximum over all older entries: numbering is not chronological (sm_120 came with
    // PTX 8.7, before sm_110 with 9.0), and ptxas accepts .target sm_120 at 8.7.
    PtxVersion best{6, 3};
    for (const Intro& i : intros) {
        if (i.sm <= t.sm) best = t.arch_specific && i.sm == t.sm ? i.ptx_arch_specific : i.ptx;
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
