#include "kernels/registry.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>

#include "kernels/argmax.hpp"
#include "kernels/block_sum.hpp"
#include "kernels/decode_attention.hpp"
#include "kernels/embed_rows.hpp"
#include "kernels/flash_attention.hpp"
#include "kernels/gemv.hpp"
#include "kernels/quantize_q8_1.hpp"
#include "kernels/rmsnorm.hpp"
#include "kernels/rmsnorm_q8_1.hpp"
#include "kernels/rope_kv_scatter.hpp"
#include "kernels/saxpy.hpp"
#include "kernels/vector_add.hpp"
#include "ptxgen/error.hpp"

namespace kernels {

const std::vector<Family>& registry() {
    static const std::vector<Family> families = {
        make_family<VectorAdd>(),
        make_family<Saxpy>(),
        make_family<BlockSum>(),
        make_family<RmsNorm>(),
        make_family<QuantizeQ8_1>(),
        make_family<RmsNormQ8_1>(),
        make_family<EmbedRows>(),
        make_family<Q4kGemv>(),
        make_family<Q6kGemv>(),
        make_family<Q8_0Gemv>(),
        make_family<F16Gemv>(),
        make_family<DecodeAttention>(),
        make_family<FlashAttention>(),
        make_family<RopeKvScatter>(),
        make_family<Argmax>(),
    };
    return families;
}

const Family& find_family(const std::string& name) {
    std::string known;
    for (const Family& f : registry()) {
        if (f.info.name == name) return f;
        known += (known.empty() ? "" : ", ") + f.info.name;
    }
    throw ptxsmith::Error(fmt::format("unknown kernel '{}'; known kernels: {}", name, known));
}

const std::string& ParamValues::text(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw ptxsmith::Error(fmt::format("parameter '{}' has no value", name));
    return it->second;
}

int64_t ParamValues::integer(const std::string& name) const {
    const std::string& s = text(name);
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
        throw ptxsmith::Error(fmt::format("parameter '{}': '{}' is not an integer", name, s));
    }
    return v;
}

double ParamValues::real(const std::string& name) const {
    const std::string& s = text(name);
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
        throw ptxsmith::Error(fmt::format("parameter '{}': '{}' is not a number", name, s));
    }
    return v;
}

ParamValues resolve_params(const Family& f, const ParamValues& overrides) {
    ParamValues out;
    for (const ParamSpec& p : f.info.params) out.set(p.name, p.default_value);
    for (const auto& [name, value] : overrides.all()) {
        const ParamSpec* spec = nullptr;
        for (const ParamSpec& p : f.info.params) {
            if (p.name == name) spec = &p;
        }
        if (!spec) {
            std::string known;
            for (const ParamSpec& p : f.info.params) known += (known.empty() ? "--" : ", --") + p.name;
            throw ptxsmith::Error(fmt::format("{} has no parameter --{}; its parameters: {}", f.info.name, name,
                                              known.empty() ? "none" : known));
        }
        out.set(name, value);
    }
    for (const ParamSpec& p : f.info.params) {
        switch (p.kind) {
        case ParamKind::integer: {
            int64_t v = out.integer(p.name);
            if (static_cast<double>(v) < p.min || static_cast<double>(v) > p.max) {
                throw ptxsmith::Error(fmt::format("{}: --{} {} is out of range [{}, {}]", f.info.name, p.name, v,
                                                  static_cast<int64_t>(p.min), static_cast<int64_t>(p.max)));
            }
            break;
        }
        case ParamKind::real: {
            double v = out.real(p.name);
            if (v < p.min || v > p.max) {
                throw ptxsmith::Error(fmt::format("{}: --{} {} is out of range [{}, {}]", f.info.name, p.name, v, p.min, p.max));
            }
            break;
        }
        case ParamKind::choice: {
            const std::string& v = out.text(p.name);
            bool ok = false;
            for (const std::string& c : p.choices) ok = ok || c == v;
            if (!ok) {
                throw ptxsmith::Error(fmt::format("{}: --{} {} is not one of: {}", f.info.name, p.name, v,
                                                  fmt::join(p.choices, ", ")));
            }
            break;
        }
        }
    }
    return out;
}

std::unique_ptr<KernelInstance> instantiate(const Family& f, const ParamValues& overrides) {
    return f.make(resolve_params(f, overrides));
}

}  // namespace kernels
