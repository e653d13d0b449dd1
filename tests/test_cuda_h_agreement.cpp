// Our CUDA declarations (cuda_types.hpp, cuda_symbols.def, nvrtc_api.hpp) against NVIDIA's
// headers: every enum value, struct layout and entry-point signature we declare must match.
// Built only when cuda.h is found at configure time; nothing else in ptxsmith sees cuda.h.
//
// Most checks are static_asserts, so a mismatch stops the build with the name in the message;
// the test cases repeat the enum values as CHECKs so that the run reports what was compared.
#include <cuda.h>
#include <cudaTypedefs.h>
#include <doctest/doctest.h>
#include <nvrtc.h>

#include <climits>
#include <cstddef>
#include <type_traits>

#include "nvrtc_api.hpp"
#include "ptxsmith/runtime/cuda_types.hpp"

namespace {

// ---- Enum values -----------------------------------------------------------------------------

#define SAME_VALUE_IN(ns, name, value)                                                            \
    static_assert(static_cast<long long>(ns::name) == static_cast<long long>(::name), #name       \
                  " differs from NVIDIA's header");                                               \
    static_assert(static_cast<long long>(ns::name) == (value), #name " differs from its list");
#define SAME_VALUE(name, value) SAME_VALUE_IN(ptxsmith, name, value)
#define SAME_NVRTC_VALUE(name, value) SAME_VALUE_IN(ptxsmith::nvrtc_api, name, value)
#define SAME_ENUM(type, values)                                                                        \
    static_assert(sizeof(ptxsmith::type) == sizeof(::type), #type " has another size than cuda.h's"); \
    values(SAME_VALUE)
PTXSMITH_CU_ENUMS(SAME_ENUM)
PTXSMITH_NVRTC_RESULT_VALUES(SAME_NVRTC_VALUE)
#undef SAME_ENUM
#undef SAME_NVRTC_VALUE
#undef SAME_VALUE
#undef SAME_VALUE_IN
static_assert(sizeof(ptxsmith::nvrtc_api::nvrtcResult) == sizeof(::nvrtcResult));

// cu_jit_target against cuda.h's CUjit_target enumerators and its accelerated-target base.
static_assert(ptxsmith::cu_jit_target(7, 5) == CU_TARGET_COMPUTE_75);
static_assert(ptxsmith::cu_jit_target(8, 0) == CU_TARGET_COMPUTE_80);
static_assert(ptxsmith::cu_jit_target(8, 6) == CU_TARGET_COMPUTE_86);
static_assert(ptxsmith::cu_jit_target(8, 9) == CU_TARGET_COMPUTE_89);
static_assert(ptxsmith::cu_jit_target(9, 0) == CU_TARGET_COMPUTE_90);
static_assert(ptxsmith::cu_jit_target(9, 0, true) == CU_TARGET_COMPUTE_90A);
static_assert(ptxsmith::cu_jit_target(12, 0) == CU_TARGET_COMPUTE_120);
static_assert(ptxsmith::cu_jit_target(0, 0, true) == CU_COMPUTE_ACCELERATED_TARGET_BASE);

// ---- Types and struct layouts ----------------------------------------------------------------

static_assert(std::is_same_v<ptxsmith::CUdevice, ::CUdevice>);
static_assert(sizeof(ptxsmith::CUdeviceptr) == sizeof(::CUdeviceptr) &&
              std::is_unsigned_v<ptxsmith::CUdeviceptr> == std::is_unsigned_v<::CUdeviceptr>);
static_assert(sizeof(ptxsmith::CUgraphExecUpdateResultInfo) == sizeof(::CUgraphExecUpdateResultInfo));
static_assert(offsetof(ptxsmith::CUgraphExecUpdateResultInfo, result) == offsetof(::CUgraphExecUpdateResultInfo, result));
static_assert(offsetof(ptxsmith::CUgraphExecUpdateResultInfo, errorNode) ==
              offsetof(::CUgraphExecUpdateResultInfo, errorNode));
static_assert(offsetof(ptxsmith::CUgraphExecUpdateResultInfo, errorFromNode) ==
              offsetof(::CUgraphExecUpdateResultInfo, errorFromNode));

static_assert(sizeof(ptxsmith::CUlaunchAttribute) == sizeof(::CUlaunchAttribute));
static_assert(alignof(ptxsmith::CUlaunchAttribute) == alignof(::CUlaunchAttribute));
static_assert(offsetof(ptxsmith::CUlaunchAttribute, value) == offsetof(::CUlaunchAttribute, value));
static_assert(offsetof(ptxsmith::CUlaunchAttributeValue, programmaticStreamSerializationAllowed) ==
              offsetof(::CUlaunchAttributeValue, programmaticStreamSerializationAllowed));
static_assert(sizeof(ptxsmith::CUlaunchConfig) == sizeof(::CUlaunchConfig));
static_assert(offsetof(ptxsmith::CUlaunchConfig, hStream) == offsetof(::CUlaunchConfig, hStream));
static_assert(offsetof(ptxsmith::CUlaunchConfig, attrs) == offsetof(::CUlaunchConfig, attrs));
static_assert(offsetof(ptxsmith::CUlaunchConfig, numAttrs) == offsetof(::CUlaunchConfig, numAttrs));

// ---- Signatures --------------------------------------------------------------------------------
// Our function types are spelled with our types; ToCuda rewrites them into cuda.h's, part by
// part, and Abi folds unsigned long long into unsigned long: CUdeviceptr is std::uint64_t to us
// and unsigned long long to cuda.h, the same 64-bit integer to the calling convention.

template <class T> struct ToCuda { using type = T; };
template <class T> using to_cuda = typename ToCuda<T>::type;
template <class T> struct ToCuda<T*> { using type = to_cuda<T>*; };
template <class T> struct ToCuda<const T> { using type = const to_cuda<T>; };
template <class R, class... A> struct ToCuda<R (*)(A...)> { using type = to_cuda<R> (*)(to_cuda<A>...); };

#define MAP_TYPE(ours, theirs) \
    template <> struct ToCuda<ours> { using type = theirs; };
#define MAP_ENUM(type, values) MAP_TYPE(ptxsmith::type, ::type)
PTXSMITH_CU_ENUMS(MAP_ENUM)
#undef MAP_ENUM
MAP_TYPE(ptxsmith::CUctx_st, ::CUctx_st)
MAP_TYPE(ptxsmith::CUmod_st, ::CUmod_st)
MAP_TYPE(ptxsmith::CUfunc_st, ::CUfunc_st)
MAP_TYPE(ptxsmith::CUstream_st, ::CUstream_st)
MAP_TYPE(ptxsmith::CUevent_st, ::CUevent_st)
MAP_TYPE(ptxsmith::CUgraph_st, ::CUgraph_st)
MAP_TYPE(ptxsmith::CUgraphExec_st, ::CUgraphExec_st)
MAP_TYPE(ptxsmith::CUgraphNode_st, ::CUgraphNode_st)
MAP_TYPE(ptxsmith::CUlinkState_st, ::CUlinkState_st)
MAP_TYPE(ptxsmith::CUgraphExecUpdateResultInfo, ::CUgraphExecUpdateResultInfo)
MAP_TYPE(ptxsmith::CUlaunchConfig, ::CUlaunchConfig)
MAP_TYPE(ptxsmith::nvrtc_api::nvrtcResult, ::nvrtcResult)
MAP_TYPE(ptxsmith::nvrtc_api::_nvrtcProgram, ::_nvrtcProgram)
#undef MAP_TYPE

static_assert(sizeof(unsigned long) == sizeof(unsigned long long), "the folding below assumes LP64");
template <class T> struct Fold { using type = T; };
template <class T> using fold = typename Fold<T>::type;
template <> struct Fold<unsigned long long> { using type = unsigned long; };
template <class T> struct Fold<T*> { using type = fold<T>*; };
template <class T> struct Fold<const T> { using type = const fold<T>; };
template <class R, class... A> struct Fold<R (*)(A...)> { using type = fold<R> (*)(fold<A>...); };

template <class Ours, class Theirs>
constexpr bool same_abi = std::is_same_v<fold<to_cuda<Ours>>, fold<Theirs>>;

}  // namespace

// The table is expanded inside namespace ptxsmith, where its unqualified types are ours.
// PFN_<name>_v<abi> is pasted, so cuda.h's macros (cuMemAlloc -> cuMemAlloc_v2) do not touch it.
namespace ptxsmith {
#define PTXSMITH_CUDA_SYMBOL(name, need, abi, ret, params)                                           \
    static_assert(abi <= 12000, #name ": the table may only use signatures of CUDA 12.0 or older"); \
    static_assert(same_abi<ret(*) params, ::PFN_##name##_v##abi>, #name ": differs from cudaTypedefs.h's PFN_" #name "_v" #abi);
#include "ptxsmith/runtime/cuda_symbols.def"
#undef PTXSMITH_CUDA_SYMBOL

static_assert(same_abi<CuGetProcAddressV2, ::PFN_cuGetProcAddress_v12000>);
static_assert(same_abi<CuGetProcAddressV1, ::PFN_cuGetProcAddress_v11030>);

namespace nvrtc_api {
#define PTXSMITH_NVRTC_SYMBOL(name, ret, params) \
    static_assert(same_abi<ret(*) params, decltype(&::name)>, #name ": differs from nvrtc.h");
PTXSMITH_NVRTC_SYMBOLS(PTXSMITH_NVRTC_SYMBOL)
#undef PTXSMITH_NVRTC_SYMBOL
}  // namespace nvrtc_api
}  // namespace ptxsmith

TEST_CASE("every CUDA enum value we declare equals cuda.h's") {
    int compared = 0;
#define CHECK_VALUE_IN(ns, name)                                                               \
    CHECK_MESSAGE(static_cast<long long>(ns::name) == static_cast<long long>(::name), #name); \
    ++compared;
#define CHECK_VALUE(name, value) CHECK_VALUE_IN(ptxsmith, name)
#define CHECK_NVRTC_VALUE(name, value) CHECK_VALUE_IN(ptxsmith::nvrtc_api, name)
#define CHECK_ENUM(type, values) values(CHECK_VALUE)
    PTXSMITH_CU_ENUMS(CHECK_ENUM)
    PTXSMITH_NVRTC_RESULT_VALUES(CHECK_NVRTC_VALUE)
#undef CHECK_ENUM
#undef CHECK_NVRTC_VALUE
#undef CHECK_VALUE
#undef CHECK_VALUE_IN
    MESSAGE(compared, " values compared with cuda.h ", CUDA_VERSION / 1000, ".", CUDA_VERSION % 1000 / 10, " and nvrtc.h");
    CHECK(compared > 100);
}

TEST_CASE("every driver entry point of the table has cudaTypedefs.h's signature at its version") {
    int symbols = 0;
#define PTXSMITH_CUDA_SYMBOL(name, need, abi, ret, params) \
    CHECK_MESSAGE(abi <= 12000, #name);                    \
    ++symbols;
#include "ptxsmith/runtime/cuda_symbols.def"
#undef PTXSMITH_CUDA_SYMBOL
    MESSAGE(symbols, " entry points checked (their signatures by static_assert)");
    CHECK(symbols >= 50);
}
