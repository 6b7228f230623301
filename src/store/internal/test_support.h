// Helpers shared by the store module's tests: a temporary folder per test and a
// way to catch the mloop::Error an expression throws. Test-only; not
// thread-safe.
#ifndef MLOOP_STORE_INTERNAL_TEST_SUPPORT_H_
#define MLOOP_STORE_INTERNAL_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "core/error.h"
#include "core/id.h"

namespace mloop::store::testing {

// A fresh folder under the system temp folder, removed with everything in it.
class TempDir {
 public:
  TempDir()
      : path_(std::filesystem::temp_directory_path() /
              ("mloop_store_test_" + NewId())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    // Artifacts are read-only files, which remove_all deletes anyway (it needs
    // write access to the folder only). A leftover temp folder is harmless.
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `f` and returns the mloop::Error it throws; fails the test when it
// throws none.
template <typename F>
Error CatchError(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no mloop::Error thrown";
  return Error(ErrorCode::kInternal, "<none>");
}

inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace mloop::store::testing

#endif  // MLOOP_STORE_INTERNAL_TEST_SUPPORT_H_
