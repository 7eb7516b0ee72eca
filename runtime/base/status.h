// Status: the result of an operation that can fail, carried across module
// boundaries instead of exceptions.
//
// A Status is either OK or holds a canonical code and a message naming what
// went wrong. The codes are Abseil's / gRPC's canonical codes; callers decide
// retries from them:
//   kUnavailable         the same call may succeed if retried (peer down, busy)
//   kAborted             retry at a higher level (a transaction conflicted)
//   kFailedPrecondition  do not retry until state is fixed
//   kInvalidArgument     the input itself is wrong, whatever the state
//   kOutOfRange          the input is valid but past an explicit limit
//   kDeadlineExceeded    the deadline passed before the operation finished
//   kResourceExhausted   a quota or capacity ran out (credits, memory)
//   kUnauthenticated     no valid credentials; kPermissionDenied: not allowed
//   kDataLoss            unrecoverable corruption; kInternal: a broken invariant
//
// Thread safety: Status is a value type; const methods may be called from
// several threads at once without synchronisation.
#ifndef CAIRN_RUNTIME_BASE_STATUS_H_
#define CAIRN_RUNTIME_BASE_STATUS_H_

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace cairn {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};
inline constexpr int kMaxStatusCode = 16;

// "INVALID_ARGUMENT" etc.; "UNKNOWN_CODE(n)" outside the canonical range.
std::string StatusCodeName(StatusCode code);
// Maps a wire integer to a code; anything out of range becomes kUnknown.
StatusCode StatusCodeFromInt(int code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string_view message);

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // Empty for OK.
  const std::string& message() const;
  // "OK" or "INVALID_ARGUMENT: message".
  std::string ToString() const;

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }
  friend bool operator!=(const Status& a, const Status& b) { return !(a == b); }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null means OK; shared: copies are cheap
};

std::ostream& operator<<(std::ostream& os, const Status& s);

inline Status OkStatus() { return Status(); }
Status CancelledError(std::string_view message);
Status UnknownError(std::string_view message);
Status InvalidArgumentError(std::string_view message);
Status DeadlineExceededError(std::string_view message);
Status NotFoundError(std::string_view message);
Status AlreadyExistsError(std::string_view message);
Status PermissionDeniedError(std::string_view message);
Status ResourceExhaustedError(std::string_view message);
Status FailedPreconditionError(std::string_view message);
Status AbortedError(std::string_view message);
Status OutOfRangeError(std::string_view message);
Status UnimplementedError(std::string_view message);
Status InternalError(std::string_view message);
Status UnavailableError(std::string_view message);
Status DataLossError(std::string_view message);
Status UnauthenticatedError(std::string_view message);

// The HTTP status for a Status by google.rpc's canonical mapping (400 for
// InvalidArgument, FailedPrecondition and OutOfRange, 401, 403, 404, 409,
// 429, 499, 500, 501, 503, 504); 200 for OK.
int HttpStatusOf(const Status& status);

// A Status from errno, e.g. ErrnoToStatus(errno, "open key.pem").
Status ErrnoToStatus(int errno_value, std::string_view context);

}  // namespace cairn

#define CAIRN_STATUS_CONCAT_INNER_(a, b) a##b
#define CAIRN_STATUS_CONCAT_(a, b) CAIRN_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                                              \
  do {                                                                     \
    ::cairn::Status cairn_status_ = (expr);                                \
    if (!cairn_status_.ok()) return cairn_status_;                         \
  } while (0)

#endif  // CAIRN_RUNTIME_BASE_STATUS_H_
