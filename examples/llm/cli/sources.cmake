# Sources of examples/llm/cli (appended to LLM_SOURCES; see ../CMakeLists.txt).
