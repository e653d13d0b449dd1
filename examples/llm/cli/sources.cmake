# The ptxsmith-llm command (examples/llm/cli). Each command is one file.
if(TARGET ptxsmith_llm)
  add_executable(ptxsmith_llm_cli
    cli/main.cpp
    cli/cmd_make_model.cpp
    cli/cmd_info.cpp
    cli/cmd_generate.cpp
    cli/forward_choice.cpp
    cli/cmd_bench.cpp
  )
  set_target_properties(ptxsmith_llm_cli PROPERTIES OUTPUT_NAME ptxsmith-llm)
  target_link_libraries(ptxsmith_llm_cli PRIVATE ptxsmith_llm ptxsmith_warnings)
endif()
