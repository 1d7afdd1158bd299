# SPDX-License-Identifier: Apache-2.0
# cli.cmake — CTest tests that run the built programs (included by tests/CMakeLists.txt).
#   cli_*     tests/cli/*.sh against build/tools/fs38 (target fs38_tool) and fs38-device
#   cross_*   tests/cross/crosscheck.py: an independent Python implementation (Debian's
#             python3-cryptography + python3-cbor2 in /usr/bin/python3) checks fs38's envelopes
#             and produces envelopes fs38 must accept.
# Each test makes and removes its own temporary directory.

find_program(FS38_BASH bash)
find_program(FS38_SYSTEM_PYTHON python3 PATHS /usr/bin NO_DEFAULT_PATH)

if(TARGET fs38_tool AND FS38_BASH)
  set(_fs38_cli_env
      FS38=$<TARGET_FILE:fs38_tool>
      FS38_VECTORS=${CMAKE_SOURCE_DIR}/tests/vectors/suit)
  if(TARGET fs38-device)
    list(APPEND _fs38_cli_env FS38_DEVICE=$<TARGET_FILE:fs38-device>)
  endif()

  set(_fs38_cli_tests keygen sign_verify vectors inspect sbom)
  if(TARGET fs38-device)
    list(APPEND _fs38_cli_tests device)
    # identity, accounts, attestation, decommissioning (its independent token check uses the
    # system python's cbor2 + cryptography, like the cross tests)
    list(APPEND _fs38_cli_tests identity)
    # privacy, wireless policy, debug lock, support period and disclosure contact (controls 5,
    # 10, 11, 13); its independent token check uses the system python's cbor2 + cryptography
    list(APPEND _fs38_cli_tests privacy)
    # the security log (control 7): export / verify / show, tamper, replay, wrap, power cut
    list(APPEND _fs38_cli_tests log)
    # several fs38-device processes on one state directory (the device lock); secure boot with
    # a damaged store or log
    list(APPEND _fs38_cli_tests concurrency boot_isolation)
    # network commands (fetch, update --from, log push) against coap-server-openssl (DTLS, PKI
    # and PSK) and Mosquitto with TLS + ACL, on loopback (tests/cli/net_device.sh)
    list(APPEND _fs38_cli_tests net_device)
    # a TPM 2.0 (init --tpm) against swtpm: device key, sealing root, counters, decommissioning,
    # the rollback attack, the TPM going away (tests/cli/tpm.sh)
    if(TARGET fs38_tpm)
      list(APPEND _fs38_cli_tests tpm)
    endif()
    # the fleet agent (fs38-device run) against Mosquitto (TLS, client certificates, the fleet
    # ACL) and coap-server-openssl, mosquitto_sub / mosquitto_pub as the fleet side
    list(APPEND _fs38_cli_tests fleet_device)
    # scripts/fleet-sim, small: Mosquitto, two collectors, 20 simulated devices x 3 batches, on
    # SQLite and on a throw-away PostgreSQL cluster (needs host/fleet: fs38 collect, fleet_sim)
    if(TARGET fs38_fleet)
      list(APPEND _fs38_cli_tests fleet_sim)
    endif()
    if(FS38_SYSTEM_PYTHON)
      list(APPEND _fs38_cli_env FS38_PYTHON=${FS38_SYSTEM_PYTHON})
    endif()
  endif()
  # the firmware assessor (fs38 audit): fixtures in tests/audit, the public vectors of
  # shared/vectors/audit beside the clone (read in place, never copied into the repository)
  list(APPEND _fs38_cli_tests audit)
  foreach(_d ${CMAKE_SOURCE_DIR}/../shared/vectors/audit ${CMAKE_SOURCE_DIR}/../../shared/vectors/audit)
    if(NOT _fs38_audit_shared AND IS_DIRECTORY ${_d})
      get_filename_component(_fs38_audit_shared ${_d} ABSOLUTE)
    endif()
  endforeach()
  foreach(t ${_fs38_cli_tests})
    add_test(NAME cli_${t}
             COMMAND ${CMAKE_COMMAND} -E env ${_fs38_cli_env}
                     ${FS38_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/${t}.sh
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties(cli_${t} PROPERTIES LABELS cli TIMEOUT 120)
  endforeach()
  # the assessor on the public vectors (FACT, IoTGoat: GPL material, read where it stands, never
  # copied into the repository): only where shared/vectors/audit stands beside the clone
  if(_fs38_audit_shared)
    add_test(NAME cli_audit_public
             COMMAND ${CMAKE_COMMAND} -E env ${_fs38_cli_env} FS38_AUDIT_PART=public
                     FS38_AUDIT_SHARED=${_fs38_audit_shared}
                     ${FS38_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/audit.sh
             WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    set_tests_properties(cli_audit_public PROPERTIES LABELS cli TIMEOUT 120)
  else()
    message(STATUS "fs38: shared/vectors/audit not beside the clone: cli_audit_public (FACT / IoTGoat vectors) not registered")
  endif()
  # the fleet side (issue 11): broker-config, enroll, collect, status, attest, publish against real
  # Mosquitto, coap-server-openssl and devices; once on SQLite and once on a throw-away PostgreSQL
  # cluster (initdb + pg_ctl in a temporary directory, loopback only)
  if(TARGET fs38-device)
    foreach(_db sqlite postgresql)
      add_test(NAME cli_fleet_${_db}
               COMMAND ${CMAKE_COMMAND} -E env ${_fs38_cli_env}
                       ${FS38_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/cli/fleet.sh ${_db}
               WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
      set_tests_properties(cli_fleet_${_db} PROPERTIES LABELS cli TIMEOUT 300)
    endforeach()
  endif()
  # cli_audit builds ~60 images and decompresses two 1.1 GiB bombs: ~50 s alone on 2 cores
  set_tests_properties(cli_audit PROPERTIES TIMEOUT 400)
  if(TEST cli_fleet_sim)
    set_tests_properties(cli_fleet_sim PROPERTIES TIMEOUT 600)
  endif()

  if(FS38_SYSTEM_PYTHON)
    foreach(part verify-fs38 fs38-verifies)
      add_test(NAME cross_${part}
               COMMAND ${FS38_SYSTEM_PYTHON} ${CMAKE_CURRENT_SOURCE_DIR}/cross/crosscheck.py
                       --fs38 $<TARGET_FILE:fs38_tool> --part ${part}
               WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
      # a missing python3-cryptography or python3-cbor2 is a failure: scripts/deps installs them
      set_tests_properties(cross_${part} PROPERTIES LABELS cross TIMEOUT 120)
    endforeach()
  else()
    message(STATUS "fs38: /usr/bin/python3 not found, cross-check tests not registered")
  endif()
endif()
