# SPDX-License-Identifier: Apache-2.0
# fuzz/replay.cmake — included by tests/CMakeLists.txt in the normal (non-FS38_FUZZ) build:
# every fuzz target of fuzz/targets.cmake is built with fuzz/replay_main.c as fuzz_replay_<name>
# and registered as the CTest test fuzz_replay_<name> (label fuzz-replay), which runs the
# target's oracle on each committed seed (fuzz/corpus/<name>/ and, for SUIT_VECTORS targets,
# tests/vectors/suit/**.cbor — the seeds scripts/fuzz.sh starts from). A violated invariant
# aborts, so the test fails.
function(fs38_fuzz_target name src)
  cmake_parse_arguments(FT "SUIT_VECTORS" "" "DEFINES;LIBS" ${ARGN})
  set(exe fuzz_replay_${name})
  add_executable(${exe} ${CMAKE_SOURCE_DIR}/fuzz/${src} ${CMAKE_SOURCE_DIR}/fuzz/replay_main.c)
  target_link_libraries(${exe} PRIVATE ${FT_LIBS} fs38_ram fs38_verify fs38)
  target_compile_options(${exe} PRIVATE ${FS38_WARN})
  target_compile_definitions(${exe} PRIVATE ${FT_DEFINES} _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
  string(REGEX REPLACE "^fuzz_" "" corpus ${name})
  set(seeds ${CMAKE_SOURCE_DIR}/fuzz/corpus/${corpus})
  if(FT_SUIT_VECTORS)
    file(GLOB_RECURSE vectors CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/vectors/suit/*.cbor)
    list(SORT vectors)
    list(APPEND seeds ${vectors})
  endif()
  add_test(NAME ${exe} COMMAND ${exe} ${seeds})
  set_tests_properties(${exe} PROPERTIES LABELS fuzz-replay)
endfunction()
include(${CMAKE_SOURCE_DIR}/fuzz/targets.cmake)
