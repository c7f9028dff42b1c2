# kinfer_test(NAME SOURCES a.c [b.c] LABELS unit|integration|... [TIMEOUT s]
#             [ARGS ...] [CMOCKA])
# Builds one test program linked to kinfer_lib and registers it with ctest.
# Exit code 77 means SKIP (e.g. a GPU test without a GPU).
function(kinfer_test name)
  cmake_parse_arguments(T "CMOCKA" "TIMEOUT" "SOURCES;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE kinfer_lib)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/common)
  if(T_CMOCKA)
    target_link_libraries(${name} PRIVATE PkgConfig::CMOCKA)
  endif()
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}"
    TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
    ENVIRONMENT "KINFER_BIN=$<TARGET_FILE:kinfer>;KINFER_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# kinfer_script_test(NAME COMMAND cmd... LABELS ... [TIMEOUT s])
# Registers a script (bash/python) test; it gets KINFER_BIN and
# KINFER_SOURCE_DIR in its environment.
function(kinfer_script_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "COMMAND;LABELS" ${ARGN})
  add_test(NAME ${name} COMMAND ${T_COMMAND} WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}"
    TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77
    ENVIRONMENT "KINFER_BIN=$<TARGET_FILE:kinfer>;KINFER_SOURCE_DIR=${CMAKE_SOURCE_DIR};KINFER_BUILD_DIR=${CMAKE_BINARY_DIR}")
endfunction()
