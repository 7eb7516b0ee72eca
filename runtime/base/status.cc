#include "runtime/base/status.h"

#include <cstring>

namespace cairn {
namespace {
const std::string& EmptyString() {
  static const std::string* const kEmpty = new std::string();
  return *kEmpty;
}
}  // namespace

std::string StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kUnknown: return "UNKNOWN";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
  }
  return "UNKNOWN_CODE(" + std::to_string(static_cast<int>(code)) + ")";
}

StatusCode StatusCodeFromInt(int code) {
  if (code < 0 || code > kMaxStatusCode) return StatusCode::kUnknown;
  return static_cast<StatusCode>(code);
}

Status::Status(StatusCode code, std::string_view message) {
  if (code != StatusCode::kOk) {
    rep_ = std::make_shared<const Rep>(Rep{code, std::string(message)});
  }
}

const std::string& Status::message() const {
  return rep_ ? rep_->message : EmptyString();
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out = StatusCodeName(code());
  if (!message().empty()) {
    out += ": ";
    out += message();
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message();
  return Status(code(), msg);
}

std::ostream& operator<<(std::ostream& os, const Status& s) {
  return os << s.ToString();
}

#define CAIRN_DEFINE_ERROR_(Name, Code) \
  Status Name(std::string_view message) { return Status(StatusCode::Code, message); }
CAIRN_DEFINE_ERROR_(CancelledError, kCancelled)
CAIRN_DEFINE_ERROR_(UnknownError, kUnknown)
CAIRN_DEFINE_ERROR_(InvalidArgumentError, kInvalidArgument)
CAIRN_DEFINE_ERROR_(DeadlineExceededError, kDeadlineExceeded)
CAIRN_DEFINE_ERROR_(NotFoundError, kNotFound)
CAIRN_DEFINE_ERROR_(AlreadyExistsError, kAlreadyExists)
CAIRN_DEFINE_ERROR_(PermissionDeniedError, kPermissionDenied)
CAIRN_DEFINE_ERROR_(ResourceExhaustedError, kResourceExhausted)
CAIRN_DEFINE_ERROR_(FailedPreconditionError, kFailedPrecondition)
CAIRN_DEFINE_ERROR_(AbortedError, kAborted)
CAIRN_DEFINE_ERROR_(OutOfRangeError, kOutOfRange)
CAIRN_DEFINE_ERROR_(UnimplementedError, kUnimplemented)
CAIRN_DEFINE_ERROR_(InternalError, kInternal)
CAIRN_DEFINE_ERROR_(UnavailableError, kUnavailable)
CAIRN_DEFINE_ERROR_(DataLossError, kDataLoss)
CAIRN_DEFINE_ERROR_(UnauthenticatedError, kUnauthenticated)
#undef CAIRN_DEFINE_ERROR_

Status ErrnoToStatus(int errno_value, std::string_view context) {
  StatusCode code;
  switch (errno_value) {
    case ENOENT: code = StatusCode::kNotFound; break;
    case EEXIST: code = StatusCode::kAlreadyExists; break;
    case EACCES:
    case EPERM: code = StatusCode::kPermissionDenied; break;
    case ENOSPC:
    case ENOMEM:
    case EMFILE: code = StatusCode::kResourceExhausted; break;
    case EAGAIN:
    case EINTR:
    case ECONNREFUSED: code = StatusCode::kUnavailable; break;
    case EINVAL: code = StatusCode::kInvalidArgument; break;
    default: code = StatusCode::kUnknown; break;
  }
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(errno_value);
  return Status(code, msg);
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kCancelled: return 499;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

}  // namespace cairn
