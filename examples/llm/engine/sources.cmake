# Sources of examples/llm/engine (appended to LLM_SOURCES; see ../CMakeLists.txt): the forward
# pass on generated kernels, for any runtime device.
list(APPEND LLM_SOURCES
  engine/device_weights.cpp
  engine/kernel_set.cpp
  engine/kernel_forward.cpp
)
