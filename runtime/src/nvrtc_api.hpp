// Our declarations of the part of NVRTC's C API that ptxsmith calls (nvrtc.h's names and values,
// checked against nvrtc.h by tests/test_cuda_h_agreement.cpp when a toolkit is installed).
// NVRTC has no proc-address mechanism and its signatures have not changed across versions, so
// every entry point comes from dlsym under its own name.
#pragma once

#include <cstddef>

#define PTXSMITH_NVRTC_RESULT_VALUES(X)         \
    X(NVRTC_SUCCESS, 0)                         \
    X(NVRTC_ERROR_OUT_OF_MEMORY, 1)             \
    X(NVRTC_ERROR_PROGRAM_CREATION_FAILURE, 2)  \
    X(NVRTC_ERROR_INVALID_INPUT, 3)             \
    X(NVRTC_ERROR_INVALID_PROGRAM, 4)           \
    X(NVRTC_ERROR_INVALID_OPTION, 5)            \
    X(NVRTC_ERROR_COMPILATION, 6)               \
    X(NVRTC_ERROR_BUILTIN_OPERATION_FAILURE, 7) \
    X(NVRTC_ERROR_INTERNAL_ERROR, 11)

// PTXSMITH_NVRTC_SYMBOL(name, return_type, (parameters)); all are required.
#define PTXSMITH_NVRTC_SYMBOLS(X)                                                                          \
    X(nvrtcVersion, nvrtcResult, (int* major, int* minor))                                                 \
    X(nvrtcGetErrorString, const char*, (nvrtcResult result))                                              \
    X(nvrtcCreateProgram, nvrtcResult,                                                                     \
      (nvrtcProgram* prog, const char* src, const char* name, int numHeaders, const char* const* headers, \
       const char* const* includeNames))                                                                   \
    X(nvrtcCompileProgram, nvrtcResult, (nvrtcProgram prog, int numOptions, const char* const* options))  \
    X(nvrtcGetPTXSize, nvrtcResult, (nvrtcProgram prog, std::size_t* ptxSizeRet))                         \
    X(nvrtcGetPTX, nvrtcResult, (nvrtcProgram prog, char* ptx))                                            \
    X(nvrtcGetProgramLogSize, nvrtcResult, (nvrtcProgram prog, std::size_t* logSizeRet))                  \
    X(nvrtcGetProgramLog, nvrtcResult, (nvrtcProgram prog, char* log))                                     \
    X(nvrtcDestroyProgram, nvrtcResult, (nvrtcProgram* prog))

namespace ptxsmith::nvrtc_api {

#define PTXSMITH_NVRTC_ENUMERATOR(name, value) name = value,
enum nvrtcResult : int { PTXSMITH_NVRTC_RESULT_VALUES(PTXSMITH_NVRTC_ENUMERATOR) };
#undef PTXSMITH_NVRTC_ENUMERATOR

struct _nvrtcProgram;
using nvrtcProgram = _nvrtcProgram*;

}  // namespace ptxsmith::nvrtc_api
