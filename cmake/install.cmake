# `cmake --install`: the headers, the static libraries ptxgen, ptxsmith_runtime and
# ptxsmith_kernels, and a CMake package, so that another project needs only
#
#   find_package(ptxsmith REQUIRED)
#   target_link_libraries(app PRIVATE ptxsmith::runtime)   # brings ptxsmith::ptxgen with it
#
# Included from the top-level CMakeLists.txt once the targets exist. Headers go to include/ (the
# targets' $<INSTALL_INTERFACE:include>); ptxsmith_warnings stays out of the export, since every
# target links it as $<BUILD_INTERFACE:ptxsmith_warnings>. examples/embed is a project that uses
# the installed package; the test embed_out_of_tree builds and runs it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PTXSMITH_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ptxsmith)

# The public headers use C++20 (concepts, std::type_identity), so users compile with it too.
target_compile_features(ptxgen PUBLIC cxx_std_20)

# The same names inside this build (for add_subdirectory or FetchContent) as from find_package.
set_target_properties(ptxsmith_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(ptxsmith_kernels PROPERTIES EXPORT_NAME kernels)
add_library(ptxsmith::ptxgen ALIAS ptxgen)
add_library(ptxsmith::runtime ALIAS ptxsmith_runtime)
add_library(ptxsmith::kernels ALIAS ptxsmith_kernels)

install(TARGETS ptxgen ptxsmith_runtime ptxsmith_kernels
        EXPORT ptxsmithTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/ptxgen/include/ptxgen
        DESTINATION include FILES_MATCHING PATTERN "*.hpp")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/ptxsmith
        DESTINATION include FILES_MATCHING PATTERN "*.hpp" PATTERN "*.def")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/kernels/include/kernels
        DESTINATION include FILES_MATCHING PATTERN "*.hpp")

install(EXPORT ptxsmithTargets
        NAMESPACE ptxsmith::
        FILE ptxsmithTargets.cmake
        DESTINATION ${PTXSMITH_CMAKE_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ptxsmithConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/ptxsmithConfig.cmake
                              INSTALL_DESTINATION ${PTXSMITH_CMAKE_DIR})
# 0.x: a minor version may change the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ptxsmithConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ptxsmithConfig.cmake
              ${PROJECT_BINARY_DIR}/ptxsmithConfigVersion.cmake
        DESTINATION ${PTXSMITH_CMAKE_DIR})
