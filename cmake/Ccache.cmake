# ccache for C++ and CUDA when available (EDITGATE_USE_CCACHE). PCH builds are
# only cacheable with sloppiness pch_defines,time_macros, and base_dir makes
# hits survive a fresh clone in another folder (CI builds a new clone each run).
if(EDITGATE_USE_CCACHE)
  find_program(CCACHE_PROGRAM ccache)
  if(CCACHE_PROGRAM)
    set(_ccache_env
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        "CCACHE_BASEDIR=${PROJECT_SOURCE_DIR}"
        "CCACHE_NOHASHDIR=1")
    set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env ${_ccache_env} ${CCACHE_PROGRAM})
    set(CMAKE_CUDA_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env ${_ccache_env} ${CCACHE_PROGRAM})
    message(STATUS "editgate: using ccache ${CCACHE_PROGRAM}")
  endif()
endif()
