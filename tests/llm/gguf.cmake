# Test sources for examples/llm/gguf (appended to LLM_TEST_SOURCES; see CMakeLists.txt).
