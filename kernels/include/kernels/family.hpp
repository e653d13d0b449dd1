// What every kernel family provides, and the type-erased form the registry keeps.
//
// A family is a struct of shape parameters with:
//   static FamilyInfo info();                       // name, summary, parameters, extra test shapes
//   static Family from(const ParamValues&);         // reads and validates the parameters
//   std::string name() const;                       // a stable kernel name encoding every parameter
//   ptxgen::Kernel build(const ptxgen::Target&) const;
//   LaunchConfig launch_config() const;
//   std::vector<ArgSpec> args() const;              // one entry per kernel parameter, in order
//   void reference(std::vector<HostBuffer>&) const; // the CPU reference: fills the outputs
//   double tolerance() const;                       // allowed error relative to the output's scale
// and may provide (detected at compile time, see Instance below):
//   void prepare_inputs(std::vector<HostBuffer>&, uint64_t seed) const;
//                         // replaces the random bytes of inputs that must be well-formed
//                         // (quantised blocks whose f16 scales must be finite, token ids in range)
//   std::string notes() const;   // how the generator was chosen (a strategy), for `ptxgen inspect`
//   std::vector<Companion> companions() const;
//                         // kernels a benchmark times beside this one (a standalone activation
//                         // quantiser whose work the model fuses into the preceding kernel)
//   BenchWork bench_work() const;
//                         // the bytes one launch must move (and its flops, when compute-bound),
//                         // for `ptxgen bench`, where counting whole buffers would be wrong (a
//                         // KV cache of max_seq rows of which a launch reads len, a table of
//                         // which it reads a few rows)
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ptxgen/ir.hpp"
#include "ptxgen/target.hpp"

namespace kernels {

enum class ParamKind { integer, real, choice };

struct ParamSpec {
    std::string name;       // spelled --name on the command line
    ParamKind kind = ParamKind::integer;
    std::string help;
    std::string default_value;
    double min = 0;          // integer and real: inclusive range
    double max = 0;
    std::vector<std::string> choices;  // choice: the allowed words
};

// Parameter values by name, as text; from_params reads them through the typed accessors.
class ParamValues {
public:
    ParamValues() = default;
    ParamValues(std::initializer_list<std::pair<const std::string, std::string>> v) : values_(v) {}
    void set(const std::string& name, std::string value) { values_[name] = std::move(value); }
    bool has(const std::string& name) const { return values_.count(name) != 0; }
    const std::string& text(const std::string& name) const;
    int64_t integer(const std::string& name) const;
    double real(const std::string& name) const;
    const std::map<std::string, std::string>& all() const { return values_; }

private:
    std::map<std::string, std::string> values_;
};

struct LaunchConfig {
    std::array<uint32_t, 3> grid{1, 1, 1};
    std::array<uint32_t, 3> block{1, 1, 1};
    uint32_t shared_bytes = 0;  // dynamic shared memory
};

enum class Role { input, output, inout, scalar };

// One kernel argument: a buffer of `count` elements of `type`, or a scalar of `type`.
struct ArgSpec {
    std::string name;
    Role role = Role::input;
    ptxgen::Type type = ptxgen::Type::f32;
    size_t count = 1;
    // A weight: the bytes a memory-bound benchmark counts and rotates past L2. When no argument
    // of a kernel is a weight, benchmarks count every buffer.
    bool weight = false;
};

// Host-side contents of one argument (a scalar is a buffer of one element).
struct HostBuffer {
    ArgSpec spec;
    std::vector<uint8_t> bytes;

    template <class T> T* as() { return reinterpret_cast<T*>(bytes.data()); }
    template <class T> const T* as() const { return reinterpret_cast<const T*>(bytes.data()); }
};

// The work one launch must do, as a family counts it for benchmarks (see bench_work above).
struct BenchWork {
    uint64_t bytes = 0;  // bytes it must read plus bytes it must write, each once
    uint64_t flops = 0;  // floating-point operations (a multiply-add counts 2); 0: not counted
    std::string what;    // how they were counted, one line, printed beside the figures
};

// A family at one shape, behind a virtual interface so the registry can hold every family.
struct Companion;

class KernelInstance {
public:
    virtual ~KernelInstance() = default;
    virtual std::string name() const = 0;
    virtual ptxgen::Kernel build(const ptxgen::Target& target) const = 0;
    virtual LaunchConfig launch_config() const = 0;
    virtual std::vector<ArgSpec> args() const = 0;
    virtual void reference(std::vector<HostBuffer>& args) const = 0;
    virtual double tolerance() const = 0;
    virtual void prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const = 0;
    virtual std::string notes() const = 0;
    virtual std::vector<Companion> companions() const = 0;
    // The family's own count of a launch's work; none: benchmarks count whole buffers.
    virtual std::optional<BenchWork> bench_work() const { return std::nullopt; }
};

struct Companion {
    std::string label;                       // e.g. "activation quantisation (standalone)"
    std::unique_ptr<KernelInstance> kernel;
};

struct FamilyInfo {
    std::string name;
    std::string summary;
    std::vector<ParamSpec> params;
    // Shapes besides the defaults that tests and validation exercise (partial overrides).
    std::vector<ParamValues> test_shapes;
    // Full-size shapes too large for the interpreter, checked on a GPU (tests/gpu).
    std::vector<ParamValues> gpu_shapes = {};
};

struct Family {
    FamilyInfo info;
    std::function<std::unique_ptr<KernelInstance>(const ParamValues&)> make;
};

// Wraps a family struct F (see the top of this file) as a KernelInstance.
template <class F> class Instance final : public KernelInstance {
public:
    explicit Instance(F f) : f_(std::move(f)) {}
    std::string name() const override { return f_.name(); }
    ptxgen::Kernel build(const ptxgen::Target& target) const override { return f_.build(target); }
    LaunchConfig launch_config() const override { return f_.launch_config(); }
    std::vector<ArgSpec> args() const override { return f_.args(); }
    void reference(std::vector<HostBuffer>& args) const override { f_.reference(args); }
    double tolerance() const override { return f_.tolerance(); }
    void prepare_inputs(std::vector<HostBuffer>& args, uint64_t seed) const override {
        if constexpr (requires { f_.prepare_inputs(args, seed); }) f_.prepare_inputs(args, seed);
    }
    std::string notes() const override {
        if constexpr (requires { f_.notes(); }) return f_.notes();
        else return {};
    }
    std::vector<Companion> companions() const override {
        if constexpr (requires { f_.companions(); }) return f_.companions();
        else return {};
    }
    std::optional<BenchWork> bench_work() const override {
        if constexpr (requires { f_.bench_work(); }) return f_.bench_work();
        else return std::nullopt;
    }
    const F& family() const { return f_; }

private:
    F f_;
};

template <class F> Family make_family() {
    return Family{F::info(), [](const ParamValues& v) -> std::unique_ptr<KernelInstance> {
                      return std::make_unique<Instance<F>>(F::from(v));
                  }};
}

}  // namespace kernels
