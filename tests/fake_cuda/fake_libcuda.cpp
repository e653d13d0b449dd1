// A stand-in for libcuda.so, built by the tests so that every way of loading the driver can be
// exercised on a machine without a GPU. Like the real driver it exports cuGetProcAddress (and
// cuGetProcAddress_v2 unless built with FAKE_CUDA_NO_V2) and hands out every other entry point
// through it, by base name.
//
// FAKE_CUDA_MODE, read at every call so that one library serves every test, picks a behaviour:
//   ok                everything works (the default)
//   old_version       cuDriverGetVersion reports CUDA 11.8
//   missing_symbol    cuLaunchKernel, cuMemAlloc (required) and cuGraphExecUpdate (optional) are absent
//   missing_optional  only the optional cuGraphExecUpdate and cuMemAllocHost are absent
//   init_fails        cuInit fails with CUDA_ERROR_SYSTEM_DRIVER_MISMATCH
//   no_device         cuInit fails with CUDA_ERROR_NO_DEVICE, as the real driver does without a GPU
//   zero_devices      cuInit succeeds but cuDeviceGetCount reports 0
//   fail_alloc        cuMemAlloc fails with CUDA_ERROR_OUT_OF_MEMORY
//
// "Device memory" is host memory from malloc, so copies and memsets behave as on a GPU; modules
// accept PTX with a .version directive and find the .entry functions named in it; launches
// check their dimensions and do nothing.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "ptxsmith/runtime/cuda_types.hpp"

// The driver's handles are opaque to its users; here is where they get a body.
struct ptxsmith::CUctx_st {};
struct ptxsmith::CUmod_st {
    std::string ptx;
};
struct ptxsmith::CUfunc_st {};
struct ptxsmith::CUstream_st {
    bool capturing = false;
};
struct ptxsmith::CUevent_st {
    std::chrono::steady_clock::time_point recorded{};
};
struct ptxsmith::CUgraph_st {};
struct ptxsmith::CUgraphExec_st {};
struct ptxsmith::CUlinkState_st {
    std::string data;
};

namespace fake {

using namespace ptxsmith;

std::string_view mode() {
    const char* m = std::getenv("FAKE_CUDA_MODE");
    return m && *m ? m : "ok";
}

int off_pin_requests = 0;  // cuGetProcAddress calls not at CUDA 12.0 with default flags
CUctx_st primary_context;
thread_local CUcontext current_context = nullptr;
CUfunc_st the_function;  // every kernel of every module: launches do nothing anyway

// Writes `text` into the log buffer a JIT option list may carry.
void write_log(unsigned n, const CUjit_option* options, void** values, CUjit_option buffer_option,
               CUjit_option size_option, const std::string& text) {
    char* buffer = nullptr;
    std::size_t size = 0;
    for (unsigned i = 0; i < n; ++i) {
        if (options[i] == buffer_option) buffer = static_cast<char*>(values[i]);
        if (options[i] == size_option) size = reinterpret_cast<std::uintptr_t>(values[i]);
    }
    if (!buffer || size == 0) return;
    const std::size_t len = std::min(size - 1, text.size());
    std::memcpy(buffer, text.data(), len);
    buffer[len] = '\0';
}

// Results the fake can name, with the real driver's words.
const char* error_name(CUresult r) {
    switch (r) {
        case CUDA_SUCCESS: return "CUDA_SUCCESS";
        case CUDA_ERROR_INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
        case CUDA_ERROR_OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
        case CUDA_ERROR_NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
        case CUDA_ERROR_INVALID_PTX: return "CUDA_ERROR_INVALID_PTX";
        case CUDA_ERROR_NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
        case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: return "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH";
        default: return nullptr;
    }
}

const char* error_string(CUresult r) {
    switch (r) {
        case CUDA_SUCCESS: return "no error";
        case CUDA_ERROR_INVALID_VALUE: return "invalid argument";
        case CUDA_ERROR_OUT_OF_MEMORY: return "out of memory";
        case CUDA_ERROR_NO_DEVICE: return "no CUDA-capable device is detected";
        case CUDA_ERROR_INVALID_PTX: return "a PTX JIT compilation failed";
        case CUDA_ERROR_NOT_FOUND: return "named symbol not found";
        case CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: return "system has unsupported display driver / cuda driver combination";
        default: return nullptr;
    }
}

// The entry points, with the signatures of cuda_symbols.def (the table below checks them).
CUresult cuInit(unsigned int) {
    if (mode() == "init_fails") return CUDA_ERROR_SYSTEM_DRIVER_MISMATCH;
    if (mode() == "no_device") return CUDA_ERROR_NO_DEVICE;
    return CUDA_SUCCESS;
}
CUresult cuDriverGetVersion(int* v) {
    *v = mode() == "old_version" ? 11080 : 12040;
    return CUDA_SUCCESS;
}
CUresult cuDeviceGetCount(int* count) {
    *count = mode() == "zero_devices" ? 0 : 1;
    return CUDA_SUCCESS;
}
CUresult cuDeviceGet(CUdevice* device, int ordinal) {
    if (ordinal != 0) return CUDA_ERROR_INVALID_VALUE;
    *device = 0;
    return CUDA_SUCCESS;
}
CUresult cuDeviceGetName(char* name, int len, CUdevice) {
    std::strncpy(name, "ptxsmith fake GPU", static_cast<std::size_t>(len));
    if (len > 0) name[len - 1] = '\0';
    return CUDA_SUCCESS;
}
// Roughly an sm_86 card.
CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attribute, CUdevice) {
    switch (attribute) {
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *value = 8; break;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *value = 6; break;
        case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *value = 82; break;
        case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *value = 6 << 20; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *value = 48 << 10; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *value = 99 << 10; break;
        case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *value = 100 << 10; break;
        case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X: *value = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y: *value = 1024; break;
        case CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z: *value = 64; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X: *value = 2147483647; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y: *value = 65535; break;
        case CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z: *value = 65535; break;
        case CU_DEVICE_ATTRIBUTE_WARP_SIZE: *value = 32; break;
        case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *value = 1695000; break;
        case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *value = 9751000; break;
        case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *value = 384; break;
        default: *value = 0; break;
    }
    return CUDA_SUCCESS;
}
CUresult cuDeviceTotalMem(std::size_t* bytes, CUdevice) {
    *bytes = std::size_t{24} << 30;
    return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext* context, CUdevice) {
    *context = &primary_context;
    return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRelease(CUdevice) { return CUDA_SUCCESS; }
CUresult cuCtxSetCurrent(CUcontext context) {
    current_context = context;
    return CUDA_SUCCESS;
}
CUresult cuCtxGetCurrent(CUcontext* context) {
    *context = current_context;
    return CUDA_SUCCESS;
}
CUresult cuCtxSynchronize() { return CUDA_SUCCESS; }

CUresult cuMemAlloc(CUdeviceptr* p, std::size_t bytes) {
    if (mode() == "fail_alloc") return CUDA_ERROR_OUT_OF_MEMORY;
    void* host = std::malloc(bytes == 0 ? 1 : bytes);
    if (!host) return CUDA_ERROR_OUT_OF_MEMORY;
    *p = reinterpret_cast<std::uintptr_t>(host);
    return CUDA_SUCCESS;
}
CUresult cuMemFree(CUdeviceptr p) {
    std::free(reinterpret_cast<void*>(static_cast<std::uintptr_t>(p)));
    return CUDA_SUCCESS;
}
CUresult cuMemAllocHost(void** p, std::size_t bytes) {
    *p = std::malloc(bytes == 0 ? 1 : bytes);
    return *p ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}
CUresult cuMemFreeHost(void* p) {
    std::free(p);
    return CUDA_SUCCESS;
}
CUresult cuMemGetInfo(std::size_t* free_bytes, std::size_t* total_bytes) {
    *free_bytes = std::size_t{20} << 30;
    *total_bytes = std::size_t{24} << 30;
    return CUDA_SUCCESS;
}
void* host(CUdeviceptr p) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(p)); }
CUresult cuMemcpyHtoD(CUdeviceptr dst, const void* src, std::size_t n) {
    std::memcpy(host(dst), src, n);
    return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoH(void* dst, CUdeviceptr src, std::size_t n) {
    std::memcpy(dst, host(src), n);
    return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoD(CUdeviceptr dst, CUdeviceptr src, std::size_t n) {
    std::memmove(host(dst), host(src), n);
    return CUDA_SUCCESS;
}
CUresult cuMemcpyHtoDAsync(CUdeviceptr dst, const void* src, std::size_t n, CUstream) { return cuMemcpyHtoD(dst, src, n); }
CUresult cuMemcpyDtoHAsync(void* dst, CUdeviceptr src, std::size_t n, CUstream) { return cuMemcpyDtoH(dst, src, n); }
CUresult cuMemcpyDtoDAsync(CUdeviceptr dst, CUdeviceptr src, std::size_t n, CUstream) { return cuMemcpyDtoD(dst, src, n); }
CUresult cuMemsetD8(CUdeviceptr dst, unsigned char value, std::size_t n) {
    std::memset(host(dst), value, n);
    return CUDA_SUCCESS;
}
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, std::size_t n, CUstream) { return cuMemsetD8(dst, value, n); }

CUresult cuStreamCreate(CUstream* stream, unsigned int) {
    *stream = new CUstream_st;
    return CUDA_SUCCESS;
}
CUresult cuStreamDestroy(CUstream stream) {
    delete stream;
    return CUDA_SUCCESS;
}
CUresult cuStreamSynchronize(CUstream) { return CUDA_SUCCESS; }
CUresult cuEventCreate(CUevent* event, unsigned int) {
    *event = new CUevent_st;
    return CUDA_SUCCESS;
}
CUresult cuEventDestroy(CUevent event) {
    delete event;
    return CUDA_SUCCESS;
}
CUresult cuEventRecord(CUevent event, CUstream) {
    event->recorded = std::chrono::steady_clock::now();
    return CUDA_SUCCESS;
}
CUresult cuEventSynchronize(CUevent) { return CUDA_SUCCESS; }
CUresult cuEventElapsedTime(float* ms, CUevent start, CUevent end) {
    *ms = std::chrono::duration<float, std::milli>(end->recorded - start->recorded).count();
    return CUDA_SUCCESS;
}

// A module is its PTX text: loading fails without a .version directive, as a stand-in for a
// JIT error, and writes the reason to the error log buffer when one is given.
CUresult cuModuleLoadDataEx(CUmodule* module, const void* image, unsigned int n, CUjit_option* options, void** values) {
    std::string ptx = static_cast<const char*>(image);
    if (ptx.find(".version") == std::string::npos) {
        write_log(n, options, values, CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                  "fake ptxas fatal   : ptx input, line 1; error   : no .version directive");
        return CUDA_ERROR_INVALID_PTX;
    }
    write_log(n, options, values, CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES, "fake ptxas info: compiled");
    *module = new CUmod_st{std::move(ptx)};
    return CUDA_SUCCESS;
}
CUresult cuModuleUnload(CUmodule module) {
    delete module;
    return CUDA_SUCCESS;
}
CUresult cuModuleGetFunction(CUfunction* function, CUmodule module, const char* name) {
    if (module->ptx.find(".entry " + std::string(name)) == std::string::npos) return CUDA_ERROR_NOT_FOUND;
    *function = &the_function;
    return CUDA_SUCCESS;
}
CUresult cuFuncGetAttribute(int* value, CUfunction_attribute attribute, CUfunction) {
    switch (attribute) {
        case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *value = 1024; break;
        case CU_FUNC_ATTRIBUTE_NUM_REGS: *value = 32; break;
        default: *value = 0; break;
    }
    return CUDA_SUCCESS;
}
CUresult cuFuncSetAttribute(CUfunction, CUfunction_attribute attribute, int value) {
    if (attribute == CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES && value > (99 << 10)) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}
CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by,
                        unsigned int bz, unsigned int, CUstream, void**, void**) {
    if (!f || gx * gy * gz == 0 || bx * by * bz == 0 || bx * by * bz > 1024) return CUDA_ERROR_INVALID_VALUE;
    return CUDA_SUCCESS;
}
CUresult cuLaunchKernelEx(const CUlaunchConfig* c, CUfunction f, void** params, void** extra) {
    if (!c || (c->numAttrs > 0 && !c->attrs)) return CUDA_ERROR_INVALID_VALUE;
    return cuLaunchKernel(f, c->gridDimX, c->gridDimY, c->gridDimZ, c->blockDimX, c->blockDimY, c->blockDimZ,
                          c->sharedMemBytes, c->hStream, params, extra);
}
CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, CUfunction, int, std::size_t) {
    *blocks = 4;
    return CUDA_SUCCESS;
}

// Linking concatenates the PTX it is given; the "cubin" is that text behind a marker.
CUresult cuLinkCreate(unsigned int, CUjit_option*, void**, CUlinkState* state) {
    *state = new CUlinkState_st;
    return CUDA_SUCCESS;
}
CUresult cuLinkAddData(CUlinkState state, CUjitInputType, void* data, std::size_t size, const char*, unsigned int,
                       CUjit_option*, void**) {
    state->data.append(static_cast<const char*>(data), size);
    return CUDA_SUCCESS;
}
CUresult cuLinkComplete(CUlinkState state, void** cubin, std::size_t* size) {
    state->data.insert(0, "FAKECUBIN\n");
    *cubin = state->data.data();
    *size = state->data.size();
    return CUDA_SUCCESS;
}
CUresult cuLinkDestroy(CUlinkState state) {
    delete state;
    return CUDA_SUCCESS;
}

CUresult cuStreamBeginCapture(CUstream stream, CUstreamCaptureMode) {
    if (!stream) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;  // the legacy stream cannot be captured
    stream->capturing = true;
    return CUDA_SUCCESS;
}
CUresult cuStreamEndCapture(CUstream stream, CUgraph* graph) {
    if (!stream || !stream->capturing) return CUDA_ERROR_ILLEGAL_STATE;
    stream->capturing = false;
    *graph = new CUgraph_st;
    return CUDA_SUCCESS;
}
CUresult cuGraphInstantiateWithFlags(CUgraphExec* exec, CUgraph, unsigned long long) {
    *exec = new CUgraphExec_st;
    return CUDA_SUCCESS;
}
CUresult cuGraphLaunch(CUgraphExec, CUstream) { return CUDA_SUCCESS; }
CUresult cuGraphExecUpdate(CUgraphExec, CUgraph, CUgraphExecUpdateResultInfo* info) {
    *info = {CU_GRAPH_EXEC_UPDATE_SUCCESS, nullptr, nullptr};
    return CUDA_SUCCESS;
}
CUresult cuGraphDestroy(CUgraph graph) {
    delete graph;
    return CUDA_SUCCESS;
}
CUresult cuGraphExecDestroy(CUgraphExec exec) {
    delete exec;
    return CUDA_SUCCESS;
}

CUresult cuGetErrorName(CUresult r, const char** name) {
    *name = error_name(r);
    return *name ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
CUresult cuGetErrorString(CUresult r, const char** text) {
    *text = error_string(r);
    return *text ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

bool absent(std::string_view name) {
    if (mode() == "missing_symbol") return name == "cuLaunchKernel" || name == "cuMemAlloc" || name == "cuGraphExecUpdate";
    if (mode() == "missing_optional") return name == "cuGraphExecUpdate" || name == "cuMemAllocHost";
    return false;
}

// Every entry point by base name. The casts to the table's own signature make a fake whose
// parameters differ from cuda_symbols.def fail to compile.
void* lookup(std::string_view name) {
#define PTXSMITH_CUDA_SYMBOL(sym, need, abi, ret, params) \
    if (name == #sym) return reinterpret_cast<void*>(static_cast<ret(*) params>(&fake::sym));
#include "ptxsmith/runtime/cuda_symbols.def"
#undef PTXSMITH_CUDA_SYMBOL
    return nullptr;
}

CUresult get_proc_address(const char* symbol, void** pfn, int version, std::uint64_t flags,
                          CUdriverProcAddressQueryResult* status) {
    const std::string_view name = symbol ? symbol : "";
    if (name != "cuDriverGetVersion" && (version != 12000 || flags != CU_GET_PROC_ADDRESS_DEFAULT)) ++off_pin_requests;
    void* fn = absent(name) ? nullptr : lookup(name);
    *pfn = fn;
    if (status) *status = fn ? CU_GET_PROC_ADDRESS_SUCCESS : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    // The real cuGetProcAddress_v2 returns CUDA_SUCCESS with a status for an unknown symbol, and
    // the older form returns CUDA_ERROR_NOT_FOUND.
    return fn || status ? CUDA_SUCCESS : CUDA_ERROR_NOT_FOUND;
}

}  // namespace fake

extern "C" {

#ifndef FAKE_CUDA_NO_V2
__attribute__((visibility("default"))) ptxsmith::CUresult cuGetProcAddress_v2(
    const char* symbol, void** pfn, int version, std::uint64_t flags, ptxsmith::CUdriverProcAddressQueryResult* status) {
    return fake::get_proc_address(symbol, pfn, version, flags, status);
}
#endif

__attribute__((visibility("default"))) ptxsmith::CUresult cuGetProcAddress(const char* symbol, void** pfn, int version,
                                                                          std::uint64_t flags) {
    return fake::get_proc_address(symbol, pfn, version, flags, nullptr);
}

// For the tests: how many lookups were not at the pinned version with default flags.
__attribute__((visibility("default"))) int fake_cuda_off_pin_requests() { return fake::off_pin_requests; }

}  // extern "C"
