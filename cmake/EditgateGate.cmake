# editgate_add_gate(NAME name BASE dir EDITED dir REQUESTS file
#                   [SPEC file] [ERASER file] [SUITES s1,s2] [REPORT_DIR dir]
#                   [DEVICE cuda|cpu|auto] [GPU] [TIMEOUT seconds])
#
# Declares a release gate as a ctest test labelled `gate` (and `gpu` with GPU):
# `editgate gate` runs the suites and exits 1 when a gate fails, so ctest
# reports the failure and the reports land in REPORT_DIR (default
# ${CMAKE_CURRENT_BINARY_DIR}/gates/<name>). With GPU the test asks ctest for a
# GPU through RESOURCE_GROUPS (run ctest with --resource-spec-file) and
# scripts/ctest_gpu_env.sh maps CTEST_RESOURCE_GROUP_0_GPUS to
# CUDA_VISIBLE_DEVICES.
function(editgate_add_gate)
  cmake_parse_arguments(G "GPU" "NAME;BASE;EDITED;REQUESTS;SPEC;ERASER;SUITES;REPORT_DIR;DEVICE;TIMEOUT" "" ${ARGN})
  foreach(required NAME BASE EDITED REQUESTS)
    if(NOT G_${required})
      message(FATAL_ERROR "editgate_add_gate: ${required} is required")
    endif()
  endforeach()
  if(NOT G_REPORT_DIR)
    set(G_REPORT_DIR "${CMAKE_CURRENT_BINARY_DIR}/gates/${G_NAME}")
  endif()
  set(args gate --base "${G_BASE}" --edited "${G_EDITED}" --requests "${G_REQUESTS}" --report-dir "${G_REPORT_DIR}")
  if(G_SPEC)
    list(APPEND args --spec "${G_SPEC}")
  endif()
  if(G_ERASER)
    list(APPEND args --eraser "${G_ERASER}")
  endif()
  if(G_SUITES)
    list(APPEND args --suites "${G_SUITES}")
  endif()
  if(G_DEVICE)
    list(APPEND args --device "${G_DEVICE}")
  endif()
  set(labels gate)
  if(G_GPU)
    list(APPEND labels gpu)
    add_test(NAME ${G_NAME} COMMAND "${EDITGATE_SOURCE_ROOT}/scripts/ctest_gpu_env.sh" $<TARGET_FILE:editgate> ${args})
    set_tests_properties(${G_NAME} PROPERTIES RESOURCE_GROUPS "gpus:1")
  else()
    add_test(NAME ${G_NAME} COMMAND editgate ${args})
  endif()
  if(NOT G_TIMEOUT)
    set(G_TIMEOUT 1800)
  endif()
  set_tests_properties(${G_NAME} PROPERTIES LABELS "${labels}" TIMEOUT ${G_TIMEOUT})
endfunction()
