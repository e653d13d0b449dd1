# Sources of examples/llm/gguf (appended to LLM_SOURCES; see ../CMakeLists.txt).
list(APPEND LLM_SOURCES
  gguf/mapped_file.cpp
  gguf/output_file.cpp
  gguf/reader.cpp
  gguf/reader_access.cpp
  gguf/value.cpp
  gguf/writer.cpp
)
