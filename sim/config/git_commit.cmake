# Writes OUT (a header) with the source tree's git commit and whether it had
# uncommitted changes, at build time; rewritten only when that changes, so an
# unchanged tree rebuilds nothing. No git, or not a git checkout: empty commit.
execute_process(COMMAND git -C "${SRC}" rev-parse HEAD
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE failed ERROR_QUIET)
if(failed)
  set(commit "")
endif()
set(dirty 0)
if(NOT failed)
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes ERROR_QUIET)
  if(changes)
    set(dirty 1)
  endif()
endif()
set(text "#pragma once\n#define SERVESIM_GIT_COMMIT \"${commit}\"\n#define SERVESIM_GIT_DIRTY ${dirty}\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
