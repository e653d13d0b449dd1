// The first CUDA GPU behind the Device interface. A kernel is printed to PTX, compiled by the
// driver's JIT for the device's real compute capability (cuLink with CU_JIT_TARGET) into a cubin
// that the module cache keeps in memory and on disk, loaded with cuModuleLoadDataEx, and launched
// with arguments already checked against its recorded parameters.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <exception>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>

#include "ptxgen/error.hpp"
#include "ptxgen/printer.hpp"
#include "ptxsmith/runtime/device.hpp"
#include "ptxsmith/runtime/driver.hpp"
#include "ptxsmith/runtime/errors.hpp"
#include "ptxsmith/runtime/module_cache.hpp"

namespace ptxsmith::runtime {

bool cuda_device_available(std::string* why_not) {
    if (Driver::available()) return true;
    if (why_not) *why_not = Driver::unavailable_reason();
    return false;
}

namespace {

constexpr uint32_t kDefaultSharedLimit = 48 * 1024;  // beyond this a kernel must opt in
constexpr size_t kLogBytes = 16 * 1024;

struct LoadedModule {
    const Driver* driver = nullptr;
    CUmodule module = nullptr;
    CUfunction function = nullptr;
    // The dynamic shared memory this function is allowed (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
    // once set; 0 until then, when the driver allows 48 KB less the static shared memory. Guarded
    // by CudaDevice::attr_mutex_.
    uint32_t dynamic_shared_opted = 0;
    // The function's static shared memory as the driver reports it (external kernels, whose IR we
    // do not have); -1 until asked. Guarded by CudaDevice::attr_mutex_.
    int64_t static_shared = -1;
    ~LoadedModule() {
        if (module) driver->cuModuleUnload(module);
    }
};

// The PTX lines a JIT log points at ("... ptx input, line 12; error : ...").
std::string pointed_lines(const std::string& log, const std::string& ptx) {
    std::vector<std::string> lines;
    std::istringstream in(ptx);
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    std::string out;
    for (size_t at = log.find("line "); at != std::string::npos; at = log.find("line ", at + 5)) {
        size_t n = 0, i = at + 5;
        while (i < log.size() && std::isdigit(static_cast<unsigned char>(log[i]))) n = n * 10 + static_cast<size_t>(log[i++] - '0');
        if (n >= 1 && n <= lines.size()) out += fmt::format("\n  {:>5} | {}", n, lines[n - 1]);
    }
    return out;
}

std::string dump_failed_ptx(const std::string& name, const std::string& ptx) {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::temp_directory_path(ec) / "ptxsmith-failed-jit";
    std::filesystem::create_directories(dir, ec);
    std::filesystem::path file = dir / (name + ".ptx");
    std::ofstream(file) << ptx;
    return file.string();
}

class CudaDevice final : public Device {
public:
    CudaDevice() : d_(Driver::get()) {
        if (d_.device_count() < 1) throw ptxsmith::Error("no CUDA device: the driver reports none");
        // Optional in the symbol table (a basic launch does without them), needed by this device.
        for (const char* symbol : {"cuStreamCreate", "cuStreamDestroy", "cuStreamSynchronize", "cuMemcpyHtoDAsync",
                                   "cuMemcpyDtoHAsync", "cuMemsetD8Async"}) {
            if (!d_.has(symbol)) {
                throw ptxsmith::Error(fmt::format("the CUDA driver at {} lacks {}; update the NVIDIA driver", d_.library_path(), symbol));
            }
        }
        d_.check(d_.cuDeviceGet(&device_, 0), "cuDeviceGet", "device 0");
        d_.check(d_.cuDevicePrimaryCtxRetain(&context_, device_), "cuDevicePrimaryCtxRetain", "device 0");
        make_current();
        query_info();
        // Work goes to one stream of our own: the legacy default stream cannot be captured.
        d_.check(d_.cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    }
    ~CudaDevice() override {
        cache_.reset();  // unload modules while the context still exists
        if (stream_) d_.cuStreamDestroy(stream_);
        d_.cuDevicePrimaryCtxRelease(device_);
    }

    const DeviceInfo& info() const override { return info_; }

    uint64_t alloc(size_t bytes, const std::string& name) override {
        make_current();
        CUdeviceptr p = 0;
        const CUresult r = d_.cuMemAlloc(&p, bytes);
        if (r == CUDA_ERROR_OUT_OF_MEMORY) {
            size_t free_bytes = 0, total = 0;
            if (d_.cuMemGetInfo) d_.cuMemGetInfo(&free_bytes, &total);
            throw ptxsmith::Error(fmt::format("out of GPU memory allocating {} bytes for '{}': {} of {} bytes are free", bytes,
                                              name, free_bytes, total));
        }
        d_.check(r, "cuMemAlloc", fmt::format("{} bytes for '{}'", bytes, name));
        return p;
    }
    void free(uint64_t address) override {
        make_current();
        d_.check(d_.cuMemFree(address), "cuMemFree");
    }
    // Synchronous copies go through the stream too, so they are ordered with the launches.
    void upload(uint64_t dst, const void* src, size_t bytes) override {
        upload_async(dst, src, bytes);
        synchronize();
    }
    void download(void* dst, uint64_t src, size_t bytes) override {
        download_async(dst, src, bytes);
        synchronize();
    }
    void memset(uint64_t dst, uint8_t value, size_t bytes) override {
        refuse_while_capturing("memset");
        make_current();
        d_.check(d_.cuMemsetD8Async(dst, value, bytes, stream_), "cuMemsetD8Async", fmt::format("{} bytes", bytes));
    }
    void copy(uint64_t dst, uint64_t src, size_t bytes) override {
        refuse_while_capturing("copy");
        if (!d_.cuMemcpyDtoDAsync) {
            throw ptxsmith::Error(fmt::format("the CUDA driver at {} lacks cuMemcpyDtoDAsync; update the NVIDIA driver", d_.library_path()));
        }
        make_current();
        d_.check(d_.cuMemcpyDtoDAsync(dst, src, bytes, stream_), "cuMemcpyDtoDAsync", fmt::format("{} bytes", bytes));
    }
    void upload_async(uint64_t dst, const void* host, size_t bytes) override {
        refuse_while_capturing("upload");
        make_current();
        d_.check(d_.cuMemcpyHtoDAsync(dst, host, bytes, stream_), "cuMemcpyHtoDAsync", fmt::format("{} bytes", bytes));
    }
    void download_async(void* host, uint64_t src, size_t bytes) override {
        refuse_while_capturing("download");
        make_current();
        d_.check(d_.cuMemcpyDtoHAsync(host, src, bytes, stream_), "cuMemcpyDtoHAsync", fmt::format("{} bytes", bytes));
    }
    void* alloc_host(size_t bytes) override {
        make_current();
        void* p = nullptr;
        d_.check(d_.cuMemAllocHost(&p, bytes), "cuMemAllocHost", fmt::format("{} bytes of pinned host memory", bytes));
        return p;
    }
    void free_host(void* p) override {
        make_current();
        d_.check(d_.cuMemFreeHost(p), "cuMemFreeHost");
    }

    void begin_capture() override {
        make_current();
        d_.check(d_.cuStreamBeginCapture(stream_, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
        capturing_ = true;
    }

    // The interpreter records launches only; refusing copies here keeps both devices alike.
    void refuse_while_capturing(const char* what) const {
        if (capturing_) throw ptxsmith::Error(fmt::format("{} during a graph capture: only launches are recorded", what));
    }
    std::unique_ptr<Graph> end_capture() override;

    double measure_ms(const std::function<void()>& enqueue) override {
        make_current();
        CUevent start = nullptr, stop = nullptr;
        d_.check(d_.cuEventCreate(&start, CU_EVENT_DEFAULT), "cuEventCreate");
        d_.check(d_.cuEventCreate(&stop, CU_EVENT_DEFAULT), "cuEventCreate");
        float ms = 0;
        try {
            d_.check(d_.cuEventRecord(start, stream_), "cuEventRecord");
            enqueue();
            d_.check(d_.cuEventRecord(stop, stream_), "cuEventRecord");
            d_.check(d_.cuEventSynchronize(stop), "cuEventSynchronize");
            d_.check(d_.cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime");
        } catch (...) {
            d_.cuEventDestroy(start);
            d_.cuEventDestroy(stop);
            throw;
        }
        d_.cuEventDestroy(start);
        d_.cuEventDestroy(stop);
        return ms;
    }

    Driver& driver() { return d_; }
    CUstream stream() const { return stream_; }

    void launch(const ptxgen::Kernel& k, const Dims& d, const Args& args) override {
        check_launch(k, info_, d, args);
        make_current();
        launch_function(*module_for(k), k, d, args);
    }

    std::shared_ptr<PreparedKernel> prepare(const ptxgen::Kernel& k) override {
        make_current();
        return std::make_shared<CudaPrepared>(k, module_for(k));
    }

    void launch(const PreparedKernel& k, const Dims& d, const Args& args) override {
        const auto* p = dynamic_cast<const CudaPrepared*>(&k);
        if (!p) throw ptxsmith::Error(fmt::format("launch of {}: it was prepared for another device", k.kernel().name));
        check_launch(k.kernel(), info_, d, args);
        make_current();
        launch_function(*p->module, k.kernel(), d, args);
    }

    void launch(const ExternalKernel& k, const Dims& d, const Args& args) override {
        check_external_args(k, args);
        make_current();
        std::shared_ptr<LoadedModule> m = module_for_ptx(k.ptx, k.entry);
        if (d.shared_bytes > 0 && static_shared_of(*m, k.entry) + d.shared_bytes > kDefaultSharedLimit) {
            opt_in_shared(*m, k.entry, d.shared_bytes);
        }
        std::vector<void*> params;
        for (const auto& v : args.values()) params.push_back(const_cast<uint8_t*>(v.data()));
        d_.check(d_.cuLaunchKernel(m->function, d.grid[0], d.grid[1], d.grid[2], d.block[0], d.block[1], d.block[2], d.shared_bytes,
                                   stream_, params.data(), nullptr),
                 "cuLaunchKernel", k.entry);
    }

    void prefetch(const std::vector<ptxgen::Kernel>& kernels) override {
        // The JIT runs on several threads at once; the cache compiles each distinct module once.
        // Longest first (by instruction count, a proxy for ptxas time): a large kernel taken
        // last would otherwise leave the other threads idle while it compiles alone.
        std::vector<size_t> order(kernels.size());
        std::iota(order.begin(), order.end(), size_t{0});
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return kernels[a].code.size() > kernels[b].code.size(); });
        std::atomic<size_t> next{0};
        std::exception_ptr error;
        std::mutex error_mutex;
        auto work = [&] {
            try {
                d_.check(d_.cuCtxSetCurrent(context_), "cuCtxSetCurrent");
                for (size_t i; (i = next++) < kernels.size();) module_for(kernels[order[i]]);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
            }
        };
        std::vector<std::thread> pool;
        const size_t n = std::min<size_t>(kernels.size(), std::max(1u, std::thread::hardware_concurrency()));
        for (size_t t = 0; t < n; ++t) pool.emplace_back(work);
        for (auto& t : pool) t.join();
        if (error) std::rethrow_exception(error);
    }

    std::string jit_info_log(const ptxgen::Kernel& k) override {
        std::string log;
        jit(ptxgen::print_ptx(k), k.name, &log);
        return log;
    }

    void synchronize() override {
        make_current();
        d_.check(d_.cuStreamSynchronize(stream_), "cuStreamSynchronize", "waiting for the device");
    }

private:
    Driver& d_;
    CUdevice device_ = 0;
    CUcontext context_ = nullptr;
    CUstream stream_ = nullptr;
    bool capturing_ = false;
    // PTXSMITH_OVERLAP=off launches every kernel plainly: a switch for telling a missing
    // griddepcontrol.wait from other faults.
    const bool overlap_allowed_ = [] {
        const char* v = std::getenv("PTXSMITH_OVERLAP");
        return !(v && std::strcmp(v, "off") == 0);
    }();
    DeviceInfo info_;
    // Level 1 holds modules of this device's context, so the cache is per device.
    std::unique_ptr<ModuleCache<LoadedModule>> cache_ = std::make_unique<ModuleCache<LoadedModule>>();
    std::mutex attr_mutex_;

public:
    void make_current() { d_.check(d_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); }

private:

    int attribute(CUdevice_attribute a) {
        int v = 0;
        d_.check(d_.cuDeviceGetAttribute(&v, a, device_), "cuDeviceGetAttribute");
        return v;
    }

    void query_info() {
        info_.kind = "cuda";
        std::array<char, 256> name{};
        if (d_.cuDeviceGetName) d_.check(d_.cuDeviceGetName(name.data(), static_cast<int>(name.size()), device_), "cuDeviceGetName");
        info_.name = name[0] ? name.data() : "CUDA device 0";
        info_.cc_major = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
        info_.cc_minor = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        info_.sm_count = attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        info_.l2_bytes = static_cast<uint64_t>(attribute(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE));
        info_.shared_per_block = static_cast<uint32_t>(attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK));
        info_.shared_per_block_optin = static_cast<uint32_t>(attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN));
        info_.shared_per_sm = static_cast<uint32_t>(attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR));
        info_.max_threads_per_block = static_cast<uint32_t>(attribute(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK));
        size_t total = 0;
        if (d_.cuDeviceTotalMem) d_.check(d_.cuDeviceTotalMem(&total, device_), "cuDeviceTotalMem");
        info_.memory_bytes = total;
        info_.driver_version = d_.version();
    }

    std::string target_name() const { return fmt::format("sm_{}{}", info_.cc_major, info_.cc_minor); }

    struct CudaPrepared final : PreparedKernel {
        CudaPrepared(const ptxgen::Kernel& k, std::shared_ptr<LoadedModule> m) : PreparedKernel(k), module(std::move(m)) {}
        std::shared_ptr<LoadedModule> module;
    };

    void launch_function(LoadedModule& m, const ptxgen::Kernel& k, const Dims& d, const Args& args) {
        if (k.static_shared_bytes() + d.shared_bytes > kDefaultSharedLimit) opt_in_shared(m, k.name, d.shared_bytes);
        std::array<void*, 64> params{};
        const auto& v = args.values();
        if (v.size() > params.size()) throw ptxsmith::Error(fmt::format("launch of {}: more than {} arguments", k.name, params.size()));
        for (size_t i = 0; i < v.size(); ++i) params[i] = const_cast<uint8_t*>(v[i].data());
        if (d.overlap_previous && overlap_allowed_ && d_.cuLaunchKernelEx && info_.cc_major >= 9) {
            CUlaunchAttribute overlap{};
            overlap.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
            overlap.value.programmaticStreamSerializationAllowed = 1;
            CUlaunchConfig config{d.grid[0], d.grid[1], d.grid[2], d.block[0], d.block[1], d.block[2], d.shared_bytes, stream_, &overlap, 1};
            d_.check(d_.cuLaunchKernelEx(&config, m.function, params.data(), nullptr), "cuLaunchKernelEx", k.name);
            return;
        }
        d_.check(d_.cuLaunchKernel(m.function, d.grid[0], d.grid[1], d.grid[2], d.block[0], d.block[1], d.block[2], d.shared_bytes,
                                   stream_, params.data(), nullptr),
                 "cuLaunchKernel", k.name);
    }

    std::shared_ptr<LoadedModule> module_for(const ptxgen::Kernel& k) { return module_for_ptx(ptxgen::print_ptx(k), k.name); }

    std::shared_ptr<LoadedModule> module_for_ptx(const std::string& ptx, const std::string& entry) {
        const std::string key = cache_key(CacheKeyInputs{ptx, target_name(), {}, d_.version()});
        return cache_->get_or_load(
            key, [&] { return jit(ptx, entry); }, [&](const std::vector<uint8_t>& cubin) { return load(cubin, entry); });
    }

    // PTX -> cubin for this device's architecture, through cuLink.
    std::vector<uint8_t> jit(const std::string& ptx, const std::string& name, std::string* info = nullptr) {
        make_current();
        std::string info_log(kLogBytes, '\0'), error_log(kLogBytes, '\0');
        std::array<CUjit_option, 6> opts{CU_JIT_TARGET, CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                                         CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, CU_JIT_LOG_VERBOSE};
        std::array<void*, 6> vals{reinterpret_cast<void*>(static_cast<uintptr_t>(info_.cc_major * 10 + info_.cc_minor)),
                                  info_log.data(), reinterpret_cast<void*>(kLogBytes), error_log.data(),
                                  reinterpret_cast<void*>(kLogBytes), reinterpret_cast<void*>(uintptr_t{1})};
        if (!d_.cuLinkCreate || !d_.cuLinkAddData || !d_.cuLinkComplete || !d_.cuLinkDestroy) {
            throw ptxsmith::Error("the CUDA driver lacks cuLink*, which the module cache needs to keep compiled code");
        }
        CUlinkState state = nullptr;
        d_.check(d_.cuLinkCreate(static_cast<unsigned>(opts.size()), opts.data(), vals.data(), &state), "cuLinkCreate", name);
        auto fail = [&](CUresult r, const char* call) {
            const std::string log = error_log.c_str();
            d_.cuLinkDestroy(state);
            const std::string dumped = dump_failed_ptx(name, ptx);
            throw ptxsmith::Error(fmt::format("JIT of kernel {} for {} failed in {} ({}): {}{}\n(PTX written to {})", name,
                                              target_name(), call, d_.result_name(r), log, pointed_lines(log, ptx), dumped));
        };
        std::string text = ptx;  // cuLinkAddData wants a writable, NUL-terminated buffer
        if (CUresult r = d_.cuLinkAddData(state, CU_JIT_INPUT_PTX, text.data(), text.size() + 1, name.c_str(), 0, nullptr, nullptr);
            r != CUDA_SUCCESS) {
            fail(r, "cuLinkAddData");
        }
        void* cubin = nullptr;
        size_t size = 0;
        if (CUresult r = d_.cuLinkComplete(state, &cubin, &size); r != CUDA_SUCCESS) fail(r, "cuLinkComplete");
        std::vector<uint8_t> bytes(static_cast<uint8_t*>(cubin), static_cast<uint8_t*>(cubin) + size);
        d_.cuLinkDestroy(state);
        if (info) *info = info_log.c_str();
        return bytes;
    }

    std::shared_ptr<LoadedModule> load(const std::vector<uint8_t>& cubin, const std::string& name) {
        make_current();
        auto m = std::make_shared<LoadedModule>();
        m->driver = &d_;
        std::string error_log(kLogBytes, '\0');
        std::array<CUjit_option, 2> opts{CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
        std::array<void*, 2> vals{error_log.data(), reinterpret_cast<void*>(kLogBytes)};
        if (CUresult r = d_.cuModuleLoadDataEx(&m->module, cubin.data(), static_cast<unsigned>(opts.size()), opts.data(), vals.data());
            r != CUDA_SUCCESS) {
            d_.fail(r, "cuModuleLoadDataEx", fmt::format("kernel {}: {}", name, error_log.c_str()));
        }
        d_.check(d_.cuModuleGetFunction(&m->function, m->module, name.c_str()), "cuModuleGetFunction", name);
        return m;
    }

    // An external kernel's static shared memory (0 when the driver cannot say: then only a dynamic
    // part above 48 KB opts in).
    uint64_t static_shared_of(LoadedModule& m, const std::string& name) {
        std::lock_guard lock(attr_mutex_);
        if (m.static_shared < 0) {
            int bytes = 0;
            if (d_.cuFuncGetAttribute) {
                d_.check(d_.cuFuncGetAttribute(&bytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, m.function), "cuFuncGetAttribute",
                         fmt::format("{}: static shared memory", name));
            }
            m.static_shared = bytes;
        }
        return static_cast<uint64_t>(m.static_shared);
    }

    void opt_in_shared(LoadedModule& m, const std::string& name, uint32_t dynamic) {
        std::lock_guard lock(attr_mutex_);
        if (dynamic <= m.dynamic_shared_opted) return;
        if (!d_.cuFuncSetAttribute) throw ptxsmith::Error("the CUDA driver lacks cuFuncSetAttribute, needed for over 48 KB of shared memory");
        d_.check(d_.cuFuncSetAttribute(m.function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, static_cast<int>(dynamic)),
                 "cuFuncSetAttribute", fmt::format("{}: {} bytes of dynamic shared memory", name, dynamic));
        m.dynamic_shared_opted = dynamic;
    }
};

// A captured stream, instantiated; replays on the device's stream.
class CudaGraph final : public Graph {
public:
    CudaGraph(CudaDevice& dev, CUgraph graph) : dev_(dev), graph_(graph) {
        Driver& d = dev_.driver();
        if (CUresult r = d.cuGraphInstantiateWithFlags(&exec_, graph_, 0); r != CUDA_SUCCESS) {
            d.cuGraphDestroy(graph_);
            d.fail(r, "cuGraphInstantiateWithFlags");
        }
    }
    ~CudaGraph() override {
        Driver& d = dev_.driver();
        if (exec_) d.cuGraphExecDestroy(exec_);
        if (graph_) d.cuGraphDestroy(graph_);
    }
    void replay() override {
        dev_.make_current();
        dev_.driver().check(dev_.driver().cuGraphLaunch(exec_, dev_.stream()), "cuGraphLaunch");
    }
    void update(std::unique_ptr<Graph> newer) override {
        auto* g = dynamic_cast<CudaGraph*>(newer.get());
        if (!g) throw ptxsmith::Error("graph update: the new graph comes from another kind of device");
        Driver& d = dev_.driver();
        dev_.make_current();
        CUgraphExecUpdateResultInfo info{};
        if (d.cuGraphExecUpdate && d.cuGraphExecUpdate(exec_, g->graph_, &info) == CUDA_SUCCESS) {
            std::swap(graph_, g->graph_);  // keep the graph the executable now matches
            return;
        }
        // The topology changed: take the newer executable instead.
        std::swap(graph_, g->graph_);
        std::swap(exec_, g->exec_);
    }

private:
    CudaDevice& dev_;
    CUgraph graph_ = nullptr;
    CUgraphExec exec_ = nullptr;
};

std::unique_ptr<Graph> CudaDevice::end_capture() {
    make_current();
    CUgraph graph = nullptr;
    capturing_ = false;
    d_.check(d_.cuStreamEndCapture(stream_, &graph), "cuStreamEndCapture");
    return std::make_unique<CudaGraph>(*this, graph);
}

}  // namespace

std::unique_ptr<Device> open_cuda_device() { return std::make_unique<CudaDevice>(); }

}  // namespace ptxsmith::runtime
