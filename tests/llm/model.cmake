# Test sources for examples/llm/model (appended to LLM_TEST_SOURCES; see CMakeLists.txt).
