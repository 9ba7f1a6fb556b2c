# One precompiled-header target, editgate_pch, holding ATen and the heavy std and
# nlohmann headers. Other targets reuse it with editgate_use_pch(target), which
# requires identical compile flags, so every library is built with the same ones.
add_library(editgate_pch STATIC ${PROJECT_SOURCE_DIR}/cmake/pch_anchor.cpp)
target_link_libraries(editgate_pch PUBLIC torch nlohmann_json::nlohmann_json)
target_include_directories(editgate_pch PUBLIC ${PROJECT_SOURCE_DIR})
if(EDITGATE_USE_PCH)
  target_precompile_headers(editgate_pch PRIVATE
    <ATen/ATen.h> <nlohmann/json.hpp> <string> <vector> <map> <unordered_map>
    <memory> <optional> <functional> <filesystem> <stdexcept>)
endif()

function(editgate_use_pch target)
  if(EDITGATE_USE_PCH)
    target_precompile_headers(${target} REUSE_FROM editgate_pch)
  endif()
endfunction()
