# SPDX-License-Identifier: Apache-2.0
# Provides the imported/alias targets fs38_mbedcrypto, fs38_mbedx509, fs38_mbedtls.
# 1. A system Mbed TLS >= 3.6 (its CMake package) is used when present.
# 2. Otherwise the source tree fetched by scripts/deps (Debian 13's 3.6 package) is built
#    here with fs38's own configuration, port/mbedtls/fs38_mbedtls_config.h.
find_package(MbedTLS 3.6 CONFIG QUIET)
if(MbedTLS_FOUND)
  message(STATUS "fs38: using system Mbed TLS ${MbedTLS_VERSION}")
  add_library(fs38_mbedcrypto INTERFACE)
  target_link_libraries(fs38_mbedcrypto INTERFACE MbedTLS::mbedcrypto)
  add_library(fs38_mbedx509 INTERFACE)
  target_link_libraries(fs38_mbedx509 INTERFACE MbedTLS::mbedx509)
  add_library(fs38_mbedtls INTERFACE)
  target_link_libraries(fs38_mbedtls INTERFACE MbedTLS::mbedtls)
  set(FS38_MBEDTLS_INCLUDE "")
else()
  if(NOT EXISTS ${FS38_MBEDTLS_SRC}/include/mbedtls/build_info.h)
    message(FATAL_ERROR "fs38: no system Mbed TLS >= 3.6 and no source in ${FS38_MBEDTLS_SRC}: run scripts/deps")
  endif()
  message(STATUS "fs38: building Mbed TLS from ${FS38_MBEDTLS_SRC} with fs38_mbedtls_config.h")
  set(MBEDTLS_CONFIG_FILE ${PROJECT_SOURCE_DIR}/port/mbedtls/fs38_mbedtls_config.h CACHE FILEPATH "" FORCE)
  set(ENABLE_PROGRAMS OFF CACHE BOOL "" FORCE)
  set(ENABLE_TESTING OFF CACHE BOOL "" FORCE)
  set(GEN_FILES OFF CACHE BOOL "" FORCE)
  set(MBEDTLS_FATAL_WARNINGS OFF CACHE BOOL "" FORCE)
  set(DISABLE_PACKAGE_CONFIG_AND_INSTALL ON CACHE BOOL "" FORCE)
  set(_fs38_saved_testing ${BUILD_TESTING})
  add_subdirectory(${FS38_MBEDTLS_SRC} ${PROJECT_BINARY_DIR}/mbedtls EXCLUDE_FROM_ALL)
  # PSA internal trusted storage is ours (src/storage/its.c over the sealed store): Mbed TLS finds
  # the platform's psa/internal_trusted_storage.h in port/mbedtls/include.
  target_include_directories(mbedcrypto PRIVATE ${PROJECT_SOURCE_DIR}/port/mbedtls/include)
  add_library(fs38_mbedcrypto INTERFACE)
  target_link_libraries(fs38_mbedcrypto INTERFACE mbedcrypto)
  add_library(fs38_mbedx509 INTERFACE)
  target_link_libraries(fs38_mbedx509 INTERFACE mbedx509)
  add_library(fs38_mbedtls INTERFACE)
  target_link_libraries(fs38_mbedtls INTERFACE mbedtls)
  set(FS38_MBEDTLS_INCLUDE ${FS38_MBEDTLS_SRC}/include)
endif()
