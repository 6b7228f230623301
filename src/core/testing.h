// Helpers for the unit tests of every module, and for nothing else (it includes gtest): a
// temporary folder per test, writing test files, and checking the mloop::Error a call throws.
// The checks report failures through gtest at the line of the test that called them, and are
// as thread-safe as gtest's assertions (on POSIX, fully).
//
// Check an error with ExpectError: the code and the message's key facts (STYLE.md). Use
// CatchError only when a test needs more than that, such as the exact message or what the
// message must not say.
#ifndef MLOOP_CORE_TESTING_H_
#define MLOOP_CORE_TESTING_H_

#include <gtest/gtest.h>

#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <set>
#include <source_location>
#include <string>
#include <string_view>
#include <system_error>

#include "core/error.h"
#include "core/id.h"

namespace mloop::test {

inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Writes `bytes` to `path`, replacing the file, and fails the test when it cannot. No fsync:
// some tests write thousands of files.
inline void WriteBytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.good()) ADD_FAILURE() << "cannot write " << path;
}

// The names of the entries directly inside `dir`.
inline std::set<std::string> EntriesOf(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// A fresh, empty folder under the system temp folder, removed with everything in it when the
// TempDir goes. Read-only files inside (artifacts) go too: removing them needs write access to
// their folder only.
class TempDir {
 public:
  TempDir() : path_(std::filesystem::temp_directory_path() / ("mloop_test_" + NewId())) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);  // Best effort: a leftover temp folder is harmless.
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // WriteBytes to `name`, a path relative to the folder whose parent folders exist; returns
  // the file's full path.
  std::filesystem::path Write(const std::filesystem::path& name, std::string_view bytes) const {
    std::filesystem::path file = path_ / name;
    WriteBytes(file, bytes);
    return file;
  }

 private:
  std::filesystem::path path_;
};

namespace internal {

// The mloop::Error that `f` throws, or nothing (and a test failure at `where`) when it throws
// none. Other exceptions fail the test too.
template <typename F>
std::optional<Error> ThrownError(F&& f, std::source_location where) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE_AT(where.file_name(), where.line())
        << "threw a std::exception, not an mloop::Error: " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE_AT(where.file_name(), where.line()) << "no mloop::Error thrown";
  return std::nullopt;
}

}  // namespace internal

// Runs `f` and returns the mloop::Error it throws. When it throws none, fails the test and
// returns a kInternal error with the message "<none>".
template <typename F>
Error CatchError(F&& f, std::source_location where = std::source_location::current()) {
  std::optional<Error> e = internal::ThrownError(f, where);
  return e ? *e : Error(ErrorCode::kInternal, "<none>");
}

// Runs `f` and expects it to throw an mloop::Error with `code` whose message contains each of
// `facts` (none: the code alone is checked). For example:
//   ExpectError(ErrorCode::kNotFound, {path.string(), "no such file"}, [&] { ReadFile(path); });
template <typename F>
void ExpectError(ErrorCode code, std::initializer_list<std::string_view> facts, F&& f,
                 std::source_location where = std::source_location::current()) {
  std::optional<Error> e = internal::ThrownError(f, where);
  if (!e) return;
  if (e->code() != code) {
    ADD_FAILURE_AT(where.file_name(), where.line())
        << "expected code " << ErrorCodeName(code) << ", got " << ErrorCodeName(e->code()) << ": "
        << e->message();
  }
  for (std::string_view fact : facts) {
    if (!Contains(e->message(), fact)) {
      ADD_FAILURE_AT(where.file_name(), where.line())
          << "message lacks \"" << fact << "\": " << e->message();
    }
  }
}

}  // namespace mloop::test

#endif  // MLOOP_CORE_TESTING_H_
