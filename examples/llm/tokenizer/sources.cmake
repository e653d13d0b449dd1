# Sources of examples/llm/tokenizer (appended to LLM_SOURCES; see ../CMakeLists.txt).
list(APPEND LLM_SOURCES
  tokenizer/tokenizer.cpp
  tokenizer/spm.cpp
  tokenizer/bpe.cpp
  tokenizer/byte_level.cpp
  tokenizer/pretokenize.cpp
  tokenizer/special_tokens.cpp
  tokenizer/stream_decoder.cpp
  tokenizer/unicode.cpp
  tokenizer/unicode_tables.cpp
)
