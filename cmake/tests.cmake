# SPDX-License-Identifier: Apache-2.0
# tests.cmake — CTest checks of the project as a whole (included by CMakeLists.txt with the tests).
#   licence_spdx       every tracked source file starts with an SPDX-License-Identifier line
#                      (cmake/check_spdx.cmake; scripts/add-spdx adds missing ones)
#   install_consumer   `cmake --install` into a temporary prefix, then an out-of-tree consumer
#                      built with find_package(fs38) and with pkg-config verifies a SUIT vector
#                      (tests/install/run.sh)

add_test(NAME licence_spdx
         COMMAND ${CMAKE_COMMAND} -DFS38_SOURCE_DIR=${PROJECT_SOURCE_DIR} -P ${PROJECT_SOURCE_DIR}/cmake/check_spdx.cmake)
set_tests_properties(licence_spdx PROPERTIES LABELS licence TIMEOUT 60)

find_program(FS38_BASH_FOR_INSTALL bash)
if(FS38_INSTALL AND FS38_BASH_FOR_INSTALL)
  add_test(NAME install_consumer
           COMMAND ${CMAKE_COMMAND} -E env
                   CMAKE=${CMAKE_COMMAND} CC=${CMAKE_C_COMPILER}
                   FS38_BUILD=${PROJECT_BINARY_DIR} FS38_VERSION=${PROJECT_VERSION}
                   FS38_VECTORS=${PROJECT_SOURCE_DIR}/tests/vectors/suit
                   ${FS38_BASH_FOR_INSTALL} ${PROJECT_SOURCE_DIR}/tests/install/run.sh
           WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
  set_tests_properties(install_consumer PROPERTIES LABELS install TIMEOUT 180)
endif()
