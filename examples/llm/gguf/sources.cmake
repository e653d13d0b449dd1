# Sources of examples/llm/gguf (appended to LLM_SOURCES; see ../CMakeLists.txt).
