# Test sources for examples/llm/model (appended to LLM_TEST_SOURCES; see CMakeLists.txt).
list(APPEND LLM_TEST_SOURCES
  test_maker.cpp
  test_hparams.cpp
)

# The model maker's files read by llama.cpp's own Python reader and dequantisers (the `gguf`
# package): skipped (exit 77) when the oracle Python cannot import it.
if(TARGET ptxsmith_llm_cli)
  add_test(NAME maker_oracle
           COMMAND ${PTXSMITH_ORACLE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/maker_oracle.py
                   $<TARGET_FILE:ptxsmith_llm_cli> $<TARGET_FILE:gguf_test_tool> ${CMAKE_CURRENT_BINARY_DIR}/maker_oracle)
  set_tests_properties(maker_oracle PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()

# The CPU forward pass and the sampler.
list(APPEND LLM_TEST_SOURCES
  test_forward.cpp
  test_sampler.cpp
)

# The forward pass on generated kernels, on the interpreter device; forward_check compares it with
# the CPU reference on any model and device (tests/gpu/llm.sh runs it on a GPU).
list(APPEND LLM_TEST_SOURCES test_kernel_forward.cpp)
add_executable(forward_check forward_check.cpp)
target_link_libraries(forward_check PRIVATE ptxsmith_llm ptxsmith_warnings)

# `ptxsmith-llm generate` end to end: the command's path reaches that one source, and llm_tests
# (made after this file is read) is built after the command.
list(APPEND LLM_TEST_SOURCES test_generate_cli.cpp)
if(TARGET ptxsmith_llm_cli)
  set_property(SOURCE test_generate_cli.cpp APPEND PROPERTY COMPILE_DEFINITIONS
               PTXSMITH_LLM_CLI="$<TARGET_FILE:ptxsmith_llm_cli>")
  cmake_language(DEFER CALL add_dependencies llm_tests ptxsmith_llm_cli)
endif()

# `ptxsmith-llm make-model` and `info` run as commands.
list(APPEND LLM_TEST_SOURCES test_maker_cli.cpp)
if(TARGET ptxsmith_llm_cli)
  set_property(SOURCE test_maker_cli.cpp APPEND PROPERTY COMPILE_DEFINITIONS
               PTXSMITH_LLM_CLI="$<TARGET_FILE:ptxsmith_llm_cli>")
endif()
