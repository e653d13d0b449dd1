# Sources of examples/llm/model (appended to LLM_SOURCES; see ../CMakeLists.txt).
