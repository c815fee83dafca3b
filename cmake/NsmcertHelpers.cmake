# Helpers that give every nsmcert target the same warnings and test wiring.

# Warnings for our own code; generated code does not get -Werror.
function(nsmcert_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Werror -Wno-unused-parameter)
endfunction()

# nsmcert_library(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# A static library whose public headers are found from the repository root
# (#include "reference/sdk/chain.h").
function(nsmcert_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  nsmcert_warnings(${name})
endfunction()

# nsmcert_test(NAME SOURCES ... DEPS ... [LABELS ...] [TIMEOUT seconds])
# A GoogleTest binary registered with ctest. Label "privileged" marks tests that need root
# (network namespaces, netlink, capture); CI runs them as root. RESOURCE_LOCK names a lock that
# ctest holds while any test of the binary runs (tests that must not overlap one another).
function(nsmcert_test name)
  if(NOT NSMCERT_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT;RESOURCE_LOCK" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  nsmcert_warnings(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(props TIMEOUT ${ARG_TIMEOUT})
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  if(ARG_RESOURCE_LOCK)
    list(APPEND props RESOURCE_LOCK "${ARG_RESOURCE_LOCK}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()

# nsmcert_add_parts(part ...): add_subdirectory() for each part folder that has a CMakeLists.txt,
# unless its path from the repository root is listed in NSMCERT_SKIP_DIRS (a ;-list, handy to build
# one area while another is half-written, e.g. -DNSMCERT_SKIP_DIRS="conformance/harness").
set(NSMCERT_SKIP_DIRS "" CACHE STRING "Folders (from the repository root) not to build")
function(nsmcert_add_parts)
  foreach(part ${ARGN})
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/${part})
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${part}/CMakeLists.txt AND NOT rel IN_LIST NSMCERT_SKIP_DIRS)
      add_subdirectory(${part})
    endif()
  endforeach()
endfunction()
