# editgate_warnings(target): warnings on for our code. Third-party headers
# (torch, gtest, nlohmann) come in as SYSTEM includes, so -Werror never trips on them.
function(editgate_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter
                                           $<$<BOOL:${EDITGATE_WERROR}>:-Werror>)
endfunction()
