# Test sources for examples/llm/gguf (appended to LLM_TEST_SOURCES; see CMakeLists.txt).
list(APPEND LLM_TEST_SOURCES
  test_gguf_roundtrip.cpp
  test_gguf_malformed.cpp
  test_gguf_corpus.cpp
)

# dump / write / seed: what our reader sees as JSON, random files from our writer, fuzzer seeds.
add_executable(gguf_test_tool gguf_test_tool.cpp)
target_link_libraries(gguf_test_tool PRIVATE ptxsmith_llm ptxsmith_warnings)

# The cross-check against llama.cpp's own Python reader and writer (the `gguf` package): skipped
# (exit 77) when the oracle Python cannot import it.
add_test(NAME gguf_oracle
         COMMAND ${PTXSMITH_ORACLE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/gguf_oracle.py
                 $<TARGET_FILE:gguf_test_tool> ${CMAKE_CURRENT_BINARY_DIR}/gguf_oracle)
set_tests_properties(gguf_oracle PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)

# The fuzzer: libFuzzer with AddressSanitizer and UBSan, so clang only. It compiles the GGUF
# sources again with instrumentation rather than linking ptxsmith_llm. Run it by hand, from the
# repository root, into a scratch folder, then fold what it found into the committed corpus:
#   fuzz_gguf -dict=tests/llm/gguf.dict -jobs=1 -max_total_time=600 SCRATCH tests/llm/gguf_corpus
#   fuzz_gguf -merge=1 MERGED tests/llm/gguf_corpus SCRATCH   (then MERGED replaces the corpus)
# tests/llm/gguf_corpus/seed-*.gguf come from `gguf_test_tool seed`.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  set(_ptxsmith_fuzz_default ON)
else()
  set(_ptxsmith_fuzz_default OFF)
endif()
option(PTXSMITH_FUZZ "Build the GGUF fuzzer (needs clang with libFuzzer)" ${_ptxsmith_fuzz_default})
if(PTXSMITH_FUZZ)
  include(CheckCXXSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer")
  check_cxx_source_compiles("#include <cstddef>
extern \"C\" int LLVMFuzzerTestOneInput(const unsigned char*, std::size_t) { return 0; }" PTXSMITH_HAVE_LIBFUZZER)
  unset(CMAKE_REQUIRED_FLAGS)
  if(PTXSMITH_HAVE_LIBFUZZER)
    set(_ptxsmith_llm_sources_saved "${LLM_SOURCES}")
    set(LLM_SOURCES)
    include(${PROJECT_SOURCE_DIR}/examples/llm/gguf/sources.cmake)
    list(TRANSFORM LLM_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/examples/llm/ OUTPUT_VARIABLE _ptxsmith_gguf_sources)
    set(LLM_SOURCES "${_ptxsmith_llm_sources_saved}")

    set(_ptxsmith_fuzz_flags -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
    add_executable(fuzz_gguf fuzz_gguf.cpp ${_ptxsmith_gguf_sources})
    target_include_directories(fuzz_gguf PRIVATE ${PROJECT_SOURCE_DIR}/examples/llm)
    target_compile_options(fuzz_gguf PRIVATE ${_ptxsmith_fuzz_flags} -fno-omit-frame-pointer)
    target_link_options(fuzz_gguf PRIVATE ${_ptxsmith_fuzz_flags})
    target_link_libraries(fuzz_gguf PRIVATE ptxsmith_kernels ptxsmith_warnings)
    # The committed corpus, replayed once under the sanitizers (no mutation, nothing written).
    add_test(NAME gguf_fuzz_corpus COMMAND fuzz_gguf -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/gguf_corpus)
  else()
    message(STATUS "libFuzzer not available: the GGUF fuzzer is not built")
  endif()
endif()
