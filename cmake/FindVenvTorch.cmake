# Finds libtorch the one way editgate uses everywhere: ask the Python that has
# torch installed for torch.utils.cmake_prefix_path. Locally that is the
# project's .venv (scripts/setup.sh); GPU runners point EDITGATE_PYTHON at their
# own PyTorch install.
if(NOT EDITGATE_PYTHON)
  if(EXISTS "${PROJECT_SOURCE_DIR}/.venv/bin/python")
    set(EDITGATE_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python")
  else()
    find_program(EDITGATE_PYTHON NAMES python3 python REQUIRED)
  endif()
endif()
execute_process(
  COMMAND "${EDITGATE_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
  OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
  RESULT_VARIABLE _torch_rc ERROR_QUIET)
if(NOT _torch_rc EQUAL 0)
  message(FATAL_ERROR "editgate: '${EDITGATE_PYTHON}' cannot import torch. Run scripts/setup.sh "
                      "or pass -DEDITGATE_PYTHON=/path/to/python-with-torch.")
endif()
list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
# The CUDA wheel's TorchConfig probes the CUDA toolkit. CMake 3.25 has no flags
# for CUDA20 with nvcc, and without a GPU the architecture probe cannot run, so
# pin both (GPU runners may override TORCH_CUDA_ARCH_LIST: H100/H200 are 9.0).
if(NOT DEFINED CMAKE_CUDA_STANDARD)
  set(CMAKE_CUDA_STANDARD 17)
endif()
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;8.6;9.0")
endif()
find_package(Torch REQUIRED)
message(STATUS "editgate: libtorch ${Torch_VERSION} from ${_torch_prefix}")

# The wheel's CUDA libraries (NCCL, cuBLAS, ...) live beside torch in
# site-packages/nvidia/*/lib and are found at run time through libtorch's RPATH.
# The linker must resolve them there too, not in an older system copy (the
# CUDA toolkit's NCCL in ld.so.conf lacks symbols this libtorch needs).
get_filename_component(_torch_site "${_torch_prefix}/../../.." ABSOLUTE)
file(GLOB _wheel_cuda_libs LIST_DIRECTORIES true "${_torch_site}/nvidia/*/lib")
foreach(_dir IN LISTS _wheel_cuda_libs)
  add_link_options("LINKER:-rpath-link,${_dir}")
endforeach()

# Some wheels' libtorch.so (torch 2.11.0 on PyPI) export their own copy of
# std::filesystem (remove_all, directory_iterator, ...), and the dynamic linker
# binds each symbol to the first library in DT_NEEDED order that defines it:
# with libtorch ahead of libstdc++, editgate's std::filesystem::remove_all(p, ec)
# ran libtorch.so's copy, which jumped to address 0 (segfault in every test that
# removes a directory, seen on an H200 with Ubuntu 24.04's GCC 13). Naming
# libstdc++ first on every link line makes it the one that answers.
add_link_options("SHELL:-Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state")
