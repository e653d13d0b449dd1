# Test sources for examples/llm/tokenizer (appended to LLM_TEST_SOURCES; see CMakeLists.txt).
list(APPEND LLM_TEST_SOURCES
  test_tokenizer_unicode.cpp
  test_tokenizer_pretokenize.cpp
  test_tokenizer_spm.cpp
  test_tokenizer_bpe.cpp
  test_tokenizer_stream.cpp
)

# The cross-check against the reference libraries (Python's regex, Hugging Face tokenizers,
# sentencepiece) on fresh random text: skipped (exit 77) when the oracle Python lacks them.
add_executable(test_tokenizer_tool test_tokenizer_tool.cpp)
target_link_libraries(test_tokenizer_tool PRIVATE ptxsmith_llm ptxsmith_warnings)
add_test(NAME tokenizer_oracle
         COMMAND ${PTXSMITH_ORACLE_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/test_tokenizer_oracle.py
                 $<TARGET_FILE:test_tokenizer_tool> ${CMAKE_CURRENT_BINARY_DIR}/tokenizer_oracle)
set_tests_properties(tokenizer_oracle PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
