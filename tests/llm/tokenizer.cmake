# Test sources for examples/llm/tokenizer (appended to LLM_TEST_SOURCES; see CMakeLists.txt).
