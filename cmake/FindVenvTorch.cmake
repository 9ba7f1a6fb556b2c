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
# The CUDA wheel's TorchConfig looks for the CUDA toolkit; without EDITGATE_CUDA we
# still need it found quietly when present (nvcc is on PATH on build machines).
find_package(Torch REQUIRED)
message(STATUS "editgate: libtorch ${Torch_VERSION} from ${_torch_prefix}")
