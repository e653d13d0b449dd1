// The CPU interpreter behind the Device interface: memory is the interpreter's simulated device
// memory, launches run to completion before returning.
#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <map>

#include "ptxgen/error.hpp"
#include "ptxgen/reader.hpp"
#include "ptxsmith/runtime/device.hpp"

namespace ptxsmith::runtime {

namespace {

struct RecordedLaunch {
    ptxgen::Kernel kernel;
    Dims dims;
    Args args;
};

class InterpDevice;

class InterpGraph final : public Graph {
public:
    InterpGraph(InterpDevice& dev, std::vector<RecordedLaunch> launches) : dev_(dev), launches_(std::move(launches)) {}
    void replay() override;
    void update(std::unique_ptr<Graph> newer) override {
        auto* g = dynamic_cast<InterpGraph*>(newer.get());
        if (!g) throw ptxsmith::Error("graph update: the new graph comes from another kind of device");
        launches_ = std::move(g->launches_);
    }

private:
    InterpDevice& dev_;
    std::vector<RecordedLaunch> launches_;
};

class InterpDevice final : public Device {
public:
    explicit InterpDevice(ptxgen::interp::Options options) : options_(options) {
        info_.kind = "interp";
        info_.name = "CPU interpreter";
        info_.cc_major = 9;  // kernels are generated as for an H100
        info_.cc_minor = 0;
        info_.sm_count = 1;
        info_.memory_bytes = 0;
        info_.shared_per_block = 48 * 1024;
        info_.shared_per_block_optin = 227 * 1024;
        info_.shared_per_sm = 228 * 1024;
        info_.max_threads_per_block = 1024;
    }
    const DeviceInfo& info() const override { return info_; }

    uint64_t alloc(size_t bytes, const std::string& name) override { return mem_.alloc(bytes, name); }
    void free(uint64_t address) override { mem_.free(address); }
    void upload(uint64_t dst, const void* src, size_t bytes) override {
        refuse_while_capturing("upload");
        mem_.write(dst, src, bytes);
    }
    void download(void* dst, uint64_t src, size_t bytes) override {
        refuse_while_capturing("download");
        mem_.read(src, dst, bytes);
    }
    void memset(uint64_t dst, uint8_t value, size_t bytes) override {
        refuse_while_capturing("memset");
        mem_.fill(dst, value, bytes);
    }
    void copy(uint64_t dst, uint64_t src, size_t bytes) override {
        refuse_while_capturing("copy");
        if (bytes == 0) return;
        ptxgen::interp::DeviceMemory::Buffer* from = mem_.find(src, bytes);
        ptxgen::interp::DeviceMemory::Buffer* to = mem_.find(dst, bytes);
        if (!from) throw ptxsmith::Error(fmt::format("copy of {} bytes from 0x{:x}: the source is outside every buffer", bytes, src));
        if (!to) throw ptxsmith::Error(fmt::format("copy of {} bytes to 0x{:x}: the destination is outside every buffer", bytes, dst));
        std::memmove(to->bytes.data() + (dst - to->address), from->bytes.data() + (src - from->address), bytes);
    }

    void launch(const ptxgen::Kernel& k, const Dims& d, const Args& args) override {
        check_launch(k, info_, d, args);
        if (capturing_) {
            recorded_.push_back(RecordedLaunch{k, d, args});
            return;
        }
        run(k, d, args);
    }

    void run(const ptxgen::Kernel& k, const Dims& d, const Args& args) {
        ptxgen::interp::ArgList a;
        for (const auto& v : args.values()) a.raw(v.data(), v.size());
        ptxgen::interp::Launch launch{{d.grid[0], d.grid[1], d.grid[2]}, {d.block[0], d.block[1], d.block[2]}, d.shared_bytes};
        executed_ += ptxgen::interp::run(k, launch, mem_, a, options_).thread_instructions;
    }
    std::shared_ptr<PreparedKernel> prepare(const ptxgen::Kernel& k) override {
        struct Prepared final : PreparedKernel {
            explicit Prepared(const ptxgen::Kernel& k) : PreparedKernel(k) {}
        };
        return std::make_shared<Prepared>(k);
    }
    void launch(const PreparedKernel& k, const Dims& d, const Args& args) override { launch(k.kernel(), d, args); }

    void launch(const ExternalKernel& k, const Dims& d, const Args& args) override {
        check_external_args(k, args);
        launch(ptxgen::read_ptx_kernel(k.ptx, k.entry, k.entry + ".ptx"), d, args);
    }
    void prefetch(const std::vector<ptxgen::Kernel>&) override {}
    std::string jit_info_log(const ptxgen::Kernel&) override { return "the CPU interpreter runs the IR directly; nothing is JIT-compiled"; }
    void synchronize() override {}
    uint64_t executed_thread_instructions() const override { return executed_; }

    void* alloc_host(size_t bytes) override { return ::operator new(bytes); }
    void free_host(void* p) override { ::operator delete(p); }
    void upload_async(uint64_t dst, const void* host, size_t bytes) override { upload(dst, host, bytes); }
    void download_async(void* host, uint64_t src, size_t bytes) override { download(host, src, bytes); }

    void refuse_while_capturing(const char* what) const {
        if (capturing_) throw ptxsmith::Error(fmt::format("{} during a graph capture: only launches are recorded", what));
    }

    void begin_capture() override {
        if (capturing_) throw ptxsmith::Error("begin_capture: already capturing");
        capturing_ = true;
        recorded_.clear();
    }
    std::unique_ptr<Graph> end_capture() override {
        if (!capturing_) throw ptxsmith::Error("end_capture without begin_capture");
        capturing_ = false;
        return std::make_unique<InterpGraph>(*this, std::move(recorded_));
    }
    double measure_ms(const std::function<void()>& enqueue) override {
        const auto t0 = std::chrono::steady_clock::now();
        enqueue();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }

private:
    ptxgen::interp::Options options_;
    ptxgen::interp::DeviceMemory mem_;
    DeviceInfo info_;
    uint64_t executed_ = 0;
    bool capturing_ = false;
    std::vector<RecordedLaunch> recorded_;
};

void InterpGraph::replay() {
    for (const RecordedLaunch& l : launches_) dev_.run(l.kernel, l.dims, l.args);
}

}  // namespace

std::unique_ptr<Device> open_interp_device(ptxgen::interp::Options options) { return std::make_unique<InterpDevice>(options); }

}  // namespace ptxsmith::runtime
