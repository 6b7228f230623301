#include "core/error.h"

namespace mloop {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kAlreadyExists:
      return "already_exists";
    case ErrorCode::kFailedPrecondition:
      return "failed_precondition";
    case ErrorCode::kDataLoss:
      return "data_loss";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

int ExitCodeFor(ErrorCode) { return 1; }

void ThrowInvalidArgument(const std::string& message) {
  throw Error(ErrorCode::kInvalidArgument, message);
}
void ThrowNotFound(const std::string& message) { throw Error(ErrorCode::kNotFound, message); }
void ThrowDataLoss(const std::string& message) { throw Error(ErrorCode::kDataLoss, message); }
void ThrowInternal(const std::string& message) { throw Error(ErrorCode::kInternal, message); }

}  // namespace mloop
