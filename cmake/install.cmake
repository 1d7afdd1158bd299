# SPDX-License-Identifier: Apache-2.0
# install.cmake — what `cmake --install` puts in a prefix (included by CMakeLists.txt when
# FS38_INSTALL is ON). Layout (docs/integrating.md):
#
#   lib/libfs38_verify.a               the fleet-side verifiers (fs38::fs38_verify), on libfs38
#   lib/libfs38.a, lib/libfs38.so*     libfs38, static and shared. When Mbed TLS is built here
#                                      (no system 3.6), both contain its crypto library
#                                      (mbedcrypto) built with fs38's configuration: the two
#                                      depend on each other (PSA ITS is src/storage/its.c), and one
#                                      archive / one shared object resolves that for every
#                                      linker. Consumers link -lfs38 and nothing else.
#   include/fs38/*.h, fs38/config.h    the public headers and the generated configuration
#   include/fs38-mbedtls/{mbedtls,psa} the Mbed TLS headers libfs38 was built with, with
#                                      mbedtls/mbedtls_config.h = port/mbedtls/fs38_mbedtls_config.h
#                                      (so psa_*_operation_t have the library's sizes)
#   bin/fs38, bin/fs38-device          the host tool and the reference device
#   lib/cmake/fs38/                    find_package(fs38 CONFIG): fs38::fs38 (static; the
#                                      shared one with FS38_USE_SHARED), fs38::fs38_static,
#                                      fs38::fs38_shared
#   lib/pkgconfig/fs38.pc              pkg-config (relocatable: paths from ${pcfiledir})
#   share/doc/fs38/                    LICENSE, NOTICE, Mbed TLS's LICENSE
include(CMakePackageConfigHelpers)

set(FS38_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fs38)
set(FS38_MBEDTLS_INSTALL_INCLUDE ${CMAKE_INSTALL_INCLUDEDIR}/fs38-mbedtls)

# ---- the distributed libraries: the objects of the in-tree fs38 (+ mbedcrypto) -----
# Same objects as the static libraries the tests use (compiled once, position independent).
set(_fs38_dist_objects $<TARGET_OBJECTS:fs38>)
set_target_properties(fs38 PROPERTIES POSITION_INDEPENDENT_CODE ON)
set(FS38_BUNDLES_MBEDTLS OFF)
if(TARGET mbedcrypto)
  set(FS38_BUNDLES_MBEDTLS ON)
  foreach(t mbedtls mbedx509 mbedcrypto p256m everest)
    if(TARGET ${t})
      set_target_properties(${t} PROPERTIES POSITION_INDEPENDENT_CODE ON)
      list(APPEND _fs38_dist_objects $<TARGET_OBJECTS:${t}>)
    endif()
  endforeach()
endif()

add_library(fs38_dist_static STATIC ${_fs38_dist_objects})
add_library(fs38_dist_shared SHARED ${_fs38_dist_objects})
foreach(t fs38_dist_static fs38_dist_shared)
  set_target_properties(${t} PROPERTIES
    OUTPUT_NAME fs38
    ARCHIVE_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/dist
    LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/dist
    LINKER_LANGUAGE C)
  target_include_directories(${t} INTERFACE
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  if(FS38_BUNDLES_MBEDTLS)
    target_include_directories(${t} INTERFACE $<INSTALL_INTERFACE:${FS38_MBEDTLS_INSTALL_INCLUDE}>)
  else()
    target_link_libraries(${t} PUBLIC $<INSTALL_INTERFACE:MbedTLS::mbedtls>)
  endif()
endforeach()
set_target_properties(fs38_dist_static PROPERTIES EXPORT_NAME fs38_static)
set_target_properties(fs38_dist_shared PROPERTIES EXPORT_NAME fs38_shared
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
if(NOT FS38_BUNDLES_MBEDTLS)
  target_link_libraries(fs38_dist_shared PRIVATE $<BUILD_INTERFACE:fs38_mbedtls>)
endif()
# a shared libfs38 must be complete: no symbol left for the executable to provide
target_link_options(fs38_dist_shared PRIVATE LINKER:--no-undefined)

# ---- install rules ---------------------------------------------------------------
install(TARGETS fs38_dist_static fs38_dist_shared EXPORT fs38Targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_COMPONENT Development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# the fleet-side verifiers (log exports, EAT tokens, decommissioning receipts): a separate static
# library on top of libfs38, fs38::fs38_verify / -lfs38_verify
set_target_properties(fs38_verify PROPERTIES POSITION_INDEPENDENT_CODE ON)
install(TARGETS fs38_verify EXPORT fs38Targets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/fs38 DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(FILES ${FS38_GENERATED_INCLUDE}/fs38/config.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/fs38)
if(FS38_BUNDLES_MBEDTLS)
  install(DIRECTORY ${FS38_MBEDTLS_SRC}/include/mbedtls ${FS38_MBEDTLS_SRC}/include/psa
    DESTINATION ${FS38_MBEDTLS_INSTALL_INCLUDE} FILES_MATCHING PATTERN "*.h"
    PATTERN "mbedtls_config.h" EXCLUDE)
  install(FILES ${PROJECT_SOURCE_DIR}/port/mbedtls/fs38_mbedtls_config.h
    DESTINATION ${FS38_MBEDTLS_INSTALL_INCLUDE}/mbedtls RENAME mbedtls_config.h)
  install(FILES ${FS38_MBEDTLS_SRC}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR}/mbedtls)
endif()
foreach(t fs38_tool fs38-device)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/NOTICE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- CMake package ----------------------------------------------------------------
install(EXPORT fs38Targets NAMESPACE fs38:: DESTINATION ${FS38_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/fs38Config.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/fs38Config.cmake INSTALL_DESTINATION ${FS38_CMAKE_DIR})
# 0.x: a minor version may change the ABI, so only the same minor version is compatible
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/fs38ConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/fs38Config.cmake ${PROJECT_BINARY_DIR}/cmake/fs38ConfigVersion.cmake
  DESTINATION ${FS38_CMAKE_DIR})

# ---- pkg-config --------------------------------------------------------------------
# Relocatable: every path relative to the .pc file, so `cmake --install --prefix P` works.
file(RELATIVE_PATH FS38_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" FS38_PC_TO_PREFIX "${FS38_PC_TO_PREFIX}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  message(FATAL_ERROR "fs38: fs38.pc needs CMAKE_INSTALL_LIBDIR and CMAKE_INSTALL_INCLUDEDIR relative to the prefix")
endif()
if(FS38_BUNDLES_MBEDTLS)
  set(FS38_PC_CFLAGS "-I\${includedir} -I\${includedir}/fs38-mbedtls")
  set(FS38_PC_REQUIRES "")
else()
  set(FS38_PC_CFLAGS "-I\${includedir}")
  set(FS38_PC_REQUIRES "Requires.private: mbedtls >= 3.6")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/fs38.pc.in ${PROJECT_BINARY_DIR}/fs38.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/fs38.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
