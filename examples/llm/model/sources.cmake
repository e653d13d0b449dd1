# Sources of examples/llm/model (appended to LLM_SOURCES; see ../CMakeLists.txt).
list(APPEND LLM_SOURCES
  model/hparams.cpp
  model/maker.cpp
  model/maker_pool.cpp
  model/maker_vocab.cpp
  model/maker_weights.cpp
)
# The CPU reference forward pass, the weights it reads, the sampler, the tokenizer loader.
list(APPEND LLM_SOURCES
  model/weights.cpp
  model/row_pool.cpp
  model/cpu_forward.cpp
  model/sampler.cpp
  model/tokenizer_from_gguf.cpp
)
