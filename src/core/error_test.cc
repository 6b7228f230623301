#include "core/error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/testing.h"

namespace mloop {
namespace {

using test::CatchError;

const std::vector<std::pair<ErrorCode, std::string>>& AllCodes() {
  static const std::vector<std::pair<ErrorCode, std::string>> kCodes = {
      {ErrorCode::kInvalidArgument, "invalid_argument"},
      {ErrorCode::kNotFound, "not_found"},
      {ErrorCode::kAlreadyExists, "already_exists"},
      {ErrorCode::kFailedPrecondition, "failed_precondition"},
      {ErrorCode::kDataLoss, "data_loss"},
      {ErrorCode::kUnavailable, "unavailable"},
      {ErrorCode::kInternal, "internal"},
  };
  return kCodes;
}

TEST(ErrorCodeNameTest, NamesEveryCode) {
  for (const auto& [code, name] : AllCodes()) {
    EXPECT_EQ(ErrorCodeName(code), name);
  }
}

TEST(ErrorCodeNameTest, NamesAreDistinct) {
  std::set<std::string> names;
  for (const auto& [code, name] : AllCodes()) {
    names.insert(std::string(ErrorCodeName(code)));
  }
  EXPECT_EQ(names.size(), AllCodes().size());
}

TEST(ExitCodeForTest, EveryErrorCodeExitsWithOne) {
  // ARCHITECTURE.md keeps 2 for usage errors and 3 for checks that said no.
  for (const auto& [code, name] : AllCodes()) {
    EXPECT_EQ(ExitCodeFor(code), 1) << name;
  }
}

TEST(ErrorTest, CarriesCodeAndMessage) {
  Error e(ErrorCode::kAlreadyExists, "dataset 'adult' already exists");
  EXPECT_EQ(e.code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(e.message(), "dataset 'adult' already exists");
  EXPECT_STREQ(e.what(), "dataset 'adult' already exists");
}

TEST(ErrorTest, IsARuntimeErrorAndCopiesKeepCodeAndMessage) {
  Error original(ErrorCode::kUnavailable, "postgresql://db: connection refused");
  Error copy = original;
  EXPECT_EQ(copy.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(copy.message(), "postgresql://db: connection refused");
  try {
    throw copy;
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "postgresql://db: connection refused");
  }
}

TEST(ErrorTest, EmptyMessage) {
  Error e(ErrorCode::kInternal, "");
  EXPECT_EQ(e.code(), ErrorCode::kInternal);
  EXPECT_EQ(e.message(), "");
}

TEST(ThrowHelpersTest, ThrowInvalidArgument) {
  Error e = CatchError([] { ThrowInvalidArgument("train.yaml:3: bad key"); });
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(e.message(), "train.yaml:3: bad key");
}

TEST(ThrowHelpersTest, ThrowNotFound) {
  Error e = CatchError([] { ThrowNotFound("model 'income@9' not found"); });
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_EQ(e.message(), "model 'income@9' not found");
}

TEST(ThrowHelpersTest, ThrowDataLoss) {
  Error e = CatchError([] { ThrowDataLoss("artifact abc: digest mismatch"); });
  EXPECT_EQ(e.code(), ErrorCode::kDataLoss);
  EXPECT_EQ(e.message(), "artifact abc: digest mismatch");
}

TEST(ThrowHelpersTest, ThrowInternal) {
  Error e = CatchError([] { ThrowInternal("unreachable state"); });
  EXPECT_EQ(e.code(), ErrorCode::kInternal);
  EXPECT_EQ(e.message(), "unreachable state");
}

TEST(ThrowHelpersTest, CatchableAsStdException) {
  EXPECT_THROW(ThrowNotFound("x"), std::exception);
  EXPECT_THROW(ThrowInvalidArgument("x"), std::runtime_error);
}

}  // namespace
}  // namespace mloop
