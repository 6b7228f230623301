# One helper per kind of target, in the manner of abseil's absl_cc_library.
#
#   mloop_library(NAME core SRCS a.cc b.cc DEPS fmt::fmt PRIVATE_DEPS OpenSSL::Crypto)
#     defines the library target mloop_core with the alias mloop::core.
#   mloop_test(NAME csv_reader_test SRCS csv_reader_test.cc DEPS mloop::table)
#     defines a GoogleTest binary and registers it with ctest.

function(mloop_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(mloop_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(mloop::${ARG_NAME} ALIAS mloop_${ARG_NAME})
  target_include_directories(mloop_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(mloop_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

function(mloop_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  set_tests_properties(${ARG_NAME} PROPERTIES LABELS "unit;${ARG_LABELS}")
  mloop_sanitizer_environment(${ARG_NAME})
endfunction()

# In the sanitizer build, points LeakSanitizer at cmake/lsan.supp for test NAME, and sets
# MLOOP_SANITIZED=1, so that a test can tell it drives an unoptimised, instrumented binary
# (whose timings mean nothing: see tests/e2e/test_evaluate.py).
function(mloop_sanitizer_environment NAME)
  if(MLOOP_SANITIZE)
    set_property(TEST ${NAME} APPEND PROPERTY ENVIRONMENT
                 "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/cmake/lsan.supp"
                 "MLOOP_SANITIZED=1")
  endif()
endfunction()
