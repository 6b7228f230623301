// mloop::Error is the one error type of the whole program. It carries an ErrorCode and
// a message that names the input, line, column or key at fault. It is thrown where an
// operation cannot go on and caught only at the edges: the command line maps the code
// to an exit code, the servers map it to an HTTP status. Expected per-row problems
// (a malformed CSV row, a value that breaks a contract) are data, not Errors.
//
// Error is an immutable value; copying and reading it from several threads is safe.
#ifndef MLOOP_CORE_ERROR_H_
#define MLOOP_CORE_ERROR_H_

#include <stdexcept>
#include <string>
#include <string_view>

namespace mloop {

// The codes a user can see (in `--json` output and HTTP error bodies, as the name
// ErrorCodeName returns).
enum class ErrorCode {
  kInvalidArgument,     // bad input: a malformed file, a wrong type, a bad option.
  kNotFound,            // a file, dataset, model or run that does not exist.
  kAlreadyExists,       // creating something that is already there.
  kFailedPrecondition,  // the system is not in a state to do this (no workspace).
  kDataLoss,            // stored bytes do not match their digest, or are truncated.
  kUnavailable,         // a service could not be reached; retrying may help.
  kInternal,            // a bug in mloop.
};

// "invalid_argument", "not_found", ...
std::string_view ErrorCodeName(ErrorCode code);

// The command line's exit code for an error: 1 for every code (ARCHITECTURE.md keeps 2
// for usage errors, which the argument parser reports, and 3 for checks that said no).
int ExitCodeFor(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}

  ErrorCode code() const { return code_; }
  std::string_view message() const { return what(); }

 private:
  ErrorCode code_;
};

// Shorthands for the common throws, so call sites read as what went wrong.
[[noreturn]] void ThrowInvalidArgument(const std::string& message);
[[noreturn]] void ThrowNotFound(const std::string& message);
[[noreturn]] void ThrowDataLoss(const std::string& message);
[[noreturn]] void ThrowInternal(const std::string& message);

}  // namespace mloop

#endif  // MLOOP_CORE_ERROR_H_
