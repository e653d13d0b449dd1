# Sources of examples/llm/tokenizer (appended to LLM_SOURCES; see ../CMakeLists.txt).
