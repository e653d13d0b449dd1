// Our own declarations of the CUDA driver types ptxsmith uses, so that building needs neither the
// CUDA toolkit nor cuda.h. Names and values are cuda.h's; tests/test_cuda_h_agreement.cpp checks
// every one of them against cuda.h whenever a toolkit is installed.
//
// Each enum is written as a list X(name, value), expanded once into the enum here; the agreement
// test and the error-name fallback walk the same lists, so no second hand-kept copy can drift.
#pragma once

#include <cstddef>
#include <cstdint>

// Results the runtime names or reacts to (cuda.h has more; any other value still prints as a number).
#define PTXSMITH_CU_RESULT_VALUES(X)              \
    X(CUDA_SUCCESS, 0)                            \
    X(CUDA_ERROR_INVALID_VALUE, 1)                \
    X(CUDA_ERROR_OUT_OF_MEMORY, 2)                \
    X(CUDA_ERROR_NOT_INITIALIZED, 3)              \
    X(CUDA_ERROR_DEINITIALIZED, 4)                \
    X(CUDA_ERROR_STUB_LIBRARY, 34)                \
    X(CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER, 36)  \
    X(CUDA_ERROR_DEVICE_UNAVAILABLE, 46)          \
    X(CUDA_ERROR_NO_DEVICE, 100)                  \
    X(CUDA_ERROR_INVALID_DEVICE, 101)             \
    X(CUDA_ERROR_INVALID_IMAGE, 200)              \
    X(CUDA_ERROR_INVALID_CONTEXT, 201)            \
    X(CUDA_ERROR_NO_BINARY_FOR_GPU, 209)          \
    X(CUDA_ERROR_ECC_UNCORRECTABLE, 214)          \
    X(CUDA_ERROR_INVALID_PTX, 218)                \
    X(CUDA_ERROR_JIT_COMPILER_NOT_FOUND, 221)     \
    X(CUDA_ERROR_UNSUPPORTED_PTX_VERSION, 222)    \
    X(CUDA_ERROR_JIT_COMPILATION_DISABLED, 223)   \
    X(CUDA_ERROR_INVALID_SOURCE, 300)             \
    X(CUDA_ERROR_FILE_NOT_FOUND, 301)             \
    X(CUDA_ERROR_OPERATING_SYSTEM, 304)           \
    X(CUDA_ERROR_INVALID_HANDLE, 400)             \
    X(CUDA_ERROR_ILLEGAL_STATE, 401)              \
    X(CUDA_ERROR_NOT_FOUND, 500)                  \
    X(CUDA_ERROR_NOT_READY, 600)                  \
    X(CUDA_ERROR_ILLEGAL_ADDRESS, 700)            \
    X(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, 701)    \
    X(CUDA_ERROR_LAUNCH_TIMEOUT, 702)             \
    X(CUDA_ERROR_CONTEXT_IS_DESTROYED, 709)       \
    X(CUDA_ERROR_ASSERT, 710)                     \
    X(CUDA_ERROR_HARDWARE_STACK_ERROR, 714)       \
    X(CUDA_ERROR_ILLEGAL_INSTRUCTION, 715)        \
    X(CUDA_ERROR_MISALIGNED_ADDRESS, 716)         \
    X(CUDA_ERROR_INVALID_ADDRESS_SPACE, 717)      \
    X(CUDA_ERROR_INVALID_PC, 718)                 \
    X(CUDA_ERROR_LAUNCH_FAILED, 719)              \
    X(CUDA_ERROR_NOT_PERMITTED, 800)              \
    X(CUDA_ERROR_NOT_SUPPORTED, 801)              \
    X(CUDA_ERROR_SYSTEM_NOT_READY, 802)           \
    X(CUDA_ERROR_SYSTEM_DRIVER_MISMATCH, 803)     \
    X(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, 900) \
    X(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, 901) \
    X(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, 906)    \
    X(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD, 908)\
    X(CUDA_ERROR_TIMEOUT, 909)                    \
    X(CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE, 910)  \
    X(CUDA_ERROR_UNKNOWN, 999)

#define PTXSMITH_CU_DEVICE_ATTRIBUTE_VALUES(X)                     \
    X(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 1)                \
    X(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X, 2)                      \
    X(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y, 3)                      \
    X(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z, 4)                      \
    X(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X, 5)                       \
    X(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y, 6)                       \
    X(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z, 7)                       \
    X(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, 8)          \
    X(CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY, 9)                \
    X(CU_DEVICE_ATTRIBUTE_WARP_SIZE, 10)                           \
    X(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK, 12)             \
    X(CU_DEVICE_ATTRIBUTE_CLOCK_RATE, 13)                          \
    X(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 16)                \
    X(CU_DEVICE_ATTRIBUTE_INTEGRATED, 18)                          \
    X(CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS, 31)                  \
    X(CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, 33)                          \
    X(CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, 34)                       \
    X(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, 36)                   \
    X(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, 37)             \
    X(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, 38)                       \
    X(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, 39)      \
    X(CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT, 40)                  \
    X(CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, 41)                  \
    X(CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, 50)                       \
    X(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 75)            \
    X(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 76)            \
    X(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR, 81)\
    X(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR, 82)    \
    X(CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY, 83)                      \
    X(CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH, 95)                  \
    X(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, 97)   \
    X(CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR, 106)      \
    X(CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE, 108)       \
    X(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK, 111)

#define PTXSMITH_CU_FUNCTION_ATTRIBUTE_VALUES(X)                   \
    X(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 0)                  \
    X(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, 1)                      \
    X(CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES, 2)                       \
    X(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, 3)                       \
    X(CU_FUNC_ATTRIBUTE_NUM_REGS, 4)                               \
    X(CU_FUNC_ATTRIBUTE_PTX_VERSION, 5)                            \
    X(CU_FUNC_ATTRIBUTE_BINARY_VERSION, 6)                         \
    X(CU_FUNC_ATTRIBUTE_CACHE_MODE_CA, 7)                          \
    X(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 8)          \
    X(CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, 9)

#define PTXSMITH_CU_JIT_OPTION_VALUES(X)        \
    X(CU_JIT_MAX_REGISTERS, 0)                  \
    X(CU_JIT_THREADS_PER_BLOCK, 1)              \
    X(CU_JIT_WALL_TIME, 2)                      \
    X(CU_JIT_INFO_LOG_BUFFER, 3)                \
    X(CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES, 4)     \
    X(CU_JIT_ERROR_LOG_BUFFER, 5)               \
    X(CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, 6)    \
    X(CU_JIT_OPTIMIZATION_LEVEL, 7)             \
    X(CU_JIT_TARGET_FROM_CUCONTEXT, 8)          \
    X(CU_JIT_TARGET, 9)                         \
    X(CU_JIT_FALLBACK_STRATEGY, 10)             \
    X(CU_JIT_GENERATE_DEBUG_INFO, 11)           \
    X(CU_JIT_LOG_VERBOSE, 12)                   \
    X(CU_JIT_GENERATE_LINE_INFO, 13)            \
    X(CU_JIT_CACHE_MODE, 14)

#define PTXSMITH_CU_JIT_INPUT_TYPE_VALUES(X) \
    X(CU_JIT_INPUT_CUBIN, 0)                 \
    X(CU_JIT_INPUT_PTX, 1)                   \
    X(CU_JIT_INPUT_FATBINARY, 2)             \
    X(CU_JIT_INPUT_OBJECT, 3)                \
    X(CU_JIT_INPUT_LIBRARY, 4)

#define PTXSMITH_CU_STREAM_CAPTURE_MODE_VALUES(X) \
    X(CU_STREAM_CAPTURE_MODE_GLOBAL, 0)           \
    X(CU_STREAM_CAPTURE_MODE_THREAD_LOCAL, 1)     \
    X(CU_STREAM_CAPTURE_MODE_RELAXED, 2)

#define PTXSMITH_CU_GRAPH_EXEC_UPDATE_RESULT_VALUES(X)          \
    X(CU_GRAPH_EXEC_UPDATE_SUCCESS, 0)                          \
    X(CU_GRAPH_EXEC_UPDATE_ERROR, 1)                            \
    X(CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, 2)           \
    X(CU_GRAPH_EXEC_UPDATE_ERROR_NODE_TYPE_CHANGED, 3)          \
    X(CU_GRAPH_EXEC_UPDATE_ERROR_FUNCTION_CHANGED, 4)           \
    X(CU_GRAPH_EXEC_UPDATE_ERROR_PARAMETERS_CHANGED, 5)         \
    X(CU_GRAPH_EXEC_UPDATE_ERROR_NOT_SUPPORTED, 6)              \
    X(CU_GRAPH_EXEC_UPDATE_ERROR_UNSUPPORTED_FUNCTION_CHANGE, 7)\
    X(CU_GRAPH_EXEC_UPDATE_ERROR_ATTRIBUTES_CHANGED, 8)

// Flags of cuStreamCreate, cuEventCreate and cuGraphInstantiateWithFlags.
#define PTXSMITH_CU_STREAM_FLAG_VALUES(X) \
    X(CU_STREAM_DEFAULT, 0)               \
    X(CU_STREAM_NON_BLOCKING, 1)

#define PTXSMITH_CU_EVENT_FLAG_VALUES(X) \
    X(CU_EVENT_DEFAULT, 0)               \
    X(CU_EVENT_BLOCKING_SYNC, 1)         \
    X(CU_EVENT_DISABLE_TIMING, 2)

#define PTXSMITH_CU_GRAPH_INSTANTIATE_FLAG_VALUES(X)   \
    X(CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH, 1) \
    X(CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD, 2)

// cuGetProcAddress's flags and its report on one symbol.
#define PTXSMITH_CU_PROC_ADDRESS_FLAG_VALUES(X) \
    X(CU_GET_PROC_ADDRESS_DEFAULT, 0)           \
    X(CU_GET_PROC_ADDRESS_LEGACY_STREAM, 1)     \
    X(CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, 2)

#define PTXSMITH_CU_PROC_ADDRESS_QUERY_RESULT_VALUES(X) \
    X(CU_GET_PROC_ADDRESS_SUCCESS, 0)                   \
    X(CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND, 1)          \
    X(CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT, 2)

// The launch attributes ptxsmith sets (cuLaunchKernelEx).
#define PTXSMITH_CU_LAUNCH_ATTRIBUTE_VALUES(X) \
    X(CU_LAUNCH_ATTRIBUTE_IGNORE, 0)           \
    X(CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION, 6)

// Every enum list above, with the name of its type: what the agreement test walks.
#define PTXSMITH_CU_ENUMS(X)                                                    \
    X(CUresult, PTXSMITH_CU_RESULT_VALUES)                                      \
    X(CUdevice_attribute, PTXSMITH_CU_DEVICE_ATTRIBUTE_VALUES)                  \
    X(CUfunction_attribute, PTXSMITH_CU_FUNCTION_ATTRIBUTE_VALUES)              \
    X(CUjit_option, PTXSMITH_CU_JIT_OPTION_VALUES)                              \
    X(CUjitInputType, PTXSMITH_CU_JIT_INPUT_TYPE_VALUES)                        \
    X(CUstreamCaptureMode, PTXSMITH_CU_STREAM_CAPTURE_MODE_VALUES)              \
    X(CUgraphExecUpdateResult, PTXSMITH_CU_GRAPH_EXEC_UPDATE_RESULT_VALUES)     \
    X(CUstream_flags, PTXSMITH_CU_STREAM_FLAG_VALUES)                           \
    X(CUevent_flags, PTXSMITH_CU_EVENT_FLAG_VALUES)                             \
    X(CUgraphInstantiate_flags, PTXSMITH_CU_GRAPH_INSTANTIATE_FLAG_VALUES)      \
    X(CUdriverProcAddress_flags, PTXSMITH_CU_PROC_ADDRESS_FLAG_VALUES)          \
    X(CUdriverProcAddressQueryResult, PTXSMITH_CU_PROC_ADDRESS_QUERY_RESULT_VALUES) \
    X(CUlaunchAttributeID, PTXSMITH_CU_LAUNCH_ATTRIBUTE_VALUES)

namespace ptxsmith {

// The enums are plain (unscoped) like cuda.h's, with int as the fixed underlying type: the same
// size as cuda.h's, so arrays of them (the CUjit_option list) have the driver's layout.
#define PTXSMITH_CU_ENUMERATOR(name, value) name = value,
#define PTXSMITH_CU_DECLARE_ENUM(type, values) enum type : int { values(PTXSMITH_CU_ENUMERATOR) };
PTXSMITH_CU_ENUMS(PTXSMITH_CU_DECLARE_ENUM)
#undef PTXSMITH_CU_DECLARE_ENUM
#undef PTXSMITH_CU_ENUMERATOR

using CUdevice = int;               // an ordinal, not a handle
using CUdeviceptr = std::uint64_t;  // a device address: an integer, never dereferenced on the host

// Opaque handles: pointers to structs only the driver defines.
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
struct CUgraph_st;
struct CUgraphExec_st;
struct CUgraphNode_st;
struct CUlinkState_st;
using CUcontext = CUctx_st*;
using CUmodule = CUmod_st*;
using CUfunction = CUfunc_st*;
using CUstream = CUstream_st*;
using CUevent = CUevent_st*;
using CUgraph = CUgraph_st*;
using CUgraphExec = CUgraphExec_st*;
using CUgraphNode = CUgraphNode_st*;
using CUlinkState = CUlinkState_st*;

// What cuGraphExecUpdate (the CUDA 12 signature) reports when an update is refused.
struct CUgraphExecUpdateResultInfo {
    CUgraphExecUpdateResult result;
    CUgraphNode errorNode;
    CUgraphNode errorFromNode;
};

// cuLaunchKernelEx's configuration and attributes (cuda.h's layouts: an attribute is its id padded
// to 8 bytes, then a 64-byte union that holds pointers in cuda.h, hence 8-byte aligned). Only the
// value ptxsmith sets is named.
union CUlaunchAttributeValue {
    char pad[64];
    int programmaticStreamSerializationAllowed;
    std::uint64_t align_as_pointer;
};
struct CUlaunchAttribute {
    CUlaunchAttributeID id;
    char pad[8 - sizeof(CUlaunchAttributeID)];
    CUlaunchAttributeValue value;
};
struct CUlaunchConfig {
    unsigned int gridDimX, gridDimY, gridDimZ;
    unsigned int blockDimX, blockDimY, blockDimZ;
    unsigned int sharedMemBytes;
    CUstream hStream;
    CUlaunchAttribute* attrs;
    unsigned int numAttrs;
};

// The two spellings of cuGetProcAddress, the only entry point taken with dlsym: _v2 (CUDA 12.0
// on) also says why a symbol was not found.
using CuGetProcAddressV2 = CUresult (*)(const char* symbol, void** pfn, int cudaVersion, std::uint64_t flags,
                                        CUdriverProcAddressQueryResult* symbolStatus);
using CuGetProcAddressV1 = CUresult (*)(const char* symbol, void** pfn, int cudaVersion, std::uint64_t flags);

// CU_JIT_TARGET's value for compute capability major.minor: cuda.h's CU_TARGET_COMPUTE_<major><minor>
// is 10 * major + minor, and its arch-specific "a" targets (sm_90a) add 0x10000
// (CU_COMPUTE_ACCELERATED_TARGET_BASE).
constexpr int cu_jit_target(int major, int minor, bool arch_specific = false) noexcept {
    return 10 * major + minor + (arch_specific ? 0x10000 : 0);
}

}  // namespace ptxsmith
