# editgate_discover_suites(<target> [FILTER <gtest filter>] [NAME <prefix>] [PROPERTIES <ctest properties>...])
#
# Like gtest_discover_tests(... DISCOVERY_MODE PRE_TEST), but one CTest test per
# GoogleTest *suite* instead of one per case. Every libtorch test process pays
# about a second to start and many suites load a model; 800 processes of that
# were most of the default run's wall time on 2 cores. The test is named
# "<prefix>.<Suite>" (prefix: NAME, default the target) and runs exactly the suite's cases that match FILTER (an
# explicit list, so a filter like "*GpuRuntime*" splits a suite correctly).
# Every case still runs and keeps its name: GoogleTest prints each one, a
# failure names the case, and each suite writes a JUnit file under
# <build>/test-results/ that CI keeps.
#
# Discovery runs when ctest starts (the binary lists its cases then), so adding
# a case needs no CMake re-run, as with PRE_TEST discovery.
function(editgate_discover_suites target)
  cmake_parse_arguments(A "" "FILTER;NAME" "PROPERTIES" ${ARGN})
  if(NOT A_NAME)
    set(A_NAME "${target}")
  endif()
  if(NOT A_FILTER)
    set(A_FILTER "*")
  endif()
  string(MAKE_C_IDENTIFIER "${A_FILTER}" _filter_id)
  set(_script "${CMAKE_CURRENT_BINARY_DIR}/${A_NAME}_suites_${_filter_id}.cmake")
  set(_results "${CMAKE_BINARY_DIR}/test-results")
  # Properties as a CMake list literal for the generated script.
  set(_props "")
  foreach(p IN LISTS A_PROPERTIES)
    string(REPLACE "\"" "\\\"" p "${p}")
    string(APPEND _props " \"${p}\"")
  endforeach()
  file(GENERATE OUTPUT "${_script}" CONTENT "
set(_exe \"$<TARGET_FILE:${target}>\")
if(NOT EXISTS \"\${_exe}\")
  add_test(${target}_NOT_BUILT \"\${_exe}\")
  return()
endif()
execute_process(COMMAND \"\${_exe}\" --gtest_list_tests \"--gtest_filter=${A_FILTER}\"
                OUTPUT_VARIABLE _out RESULT_VARIABLE _rc TIMEOUT 60)
if(NOT _rc EQUAL 0)
  add_test(${target}_DISCOVERY_FAILED \"\${_exe}\" --gtest_list_tests)
  return()
endif()
string(REPLACE \";\" \"\\\\;\" _out \"\${_out}\")
string(REPLACE \"\\n\" \";\" _lines \"\${_out}\")
set(_suites \"\")
foreach(_line IN LISTS _lines)
  string(REGEX REPLACE \"#.*\" \"\" _line \"\${_line}\")
  if(_line MATCHES \"^([^ ].*)\\\\.[ ]*$\")
    set(_suite \"\${CMAKE_MATCH_1}\")
    list(APPEND _suites \"\${_suite}\")
    set(_cases_\${_suite} \"\")
  elseif(_line MATCHES \"^  ([^ ]+)\")
    list(APPEND _cases_\${_suite} \"\${_suite}.\${CMAKE_MATCH_1}\")
  endif()
endforeach()
foreach(_suite IN LISTS _suites)
  list(JOIN _cases_\${_suite} \":\" _filter)
  string(REPLACE \"/\" \"_\" _file \"\${_suite}\")
  set(_name \"${A_NAME}.\${_suite}\")
  add_test(\"\${_name}\" \"\${_exe}\" \"--gtest_filter=\${_filter}\"
           \"--gtest_output=xml:${_results}/${A_NAME}.\${_file}.xml\")
  set_tests_properties(\"\${_name}\" PROPERTIES${_props})
endforeach()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${_script}")
endfunction()
