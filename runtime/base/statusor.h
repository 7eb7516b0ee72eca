// StatusOr<T>: either a value of type T or a non-OK Status saying why there
// is none. Accessing the value of a non-OK StatusOr aborts the process with
// the status printed (a programming error, like dereferencing a null pointer).
//
// Thread safety: like T; const methods are safe to call concurrently.
#ifndef CAIRN_RUNTIME_BASE_STATUSOR_H_
#define CAIRN_RUNTIME_BASE_STATUSOR_H_

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "runtime/base/status.h"

namespace cairn {

template <typename T>
class [[nodiscard]] StatusOr {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "StatusOr<Status> is not allowed");

 public:
  // A non-OK status. Passing an OK status is a programming error and is
  // turned into an INTERNAL error rather than a value-less OK.
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) (void)(status_ = InternalError("StatusOr constructed from OK status without a value"));
  }
  StatusOr(const T& value) : value_(value) {}        // NOLINT
  StatusOr(T&& value) : value_(std::move(value)) {}  // NOLINT
  template <typename U, typename = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, StatusOr>>>
  StatusOr(U&& value) : value_(std::forward<U>(value)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  const T& value() const& { CheckOk(); return *value_; }
  T& value() & { CheckOk(); return *value_; }
  T&& value() && { CheckOk(); return std::move(*value_); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& { return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback)); }

 private:
  void CheckOk() const {
    if (!value_.has_value()) {
      std::fprintf(stderr, "cairn: StatusOr accessed without a value: %s\n", status_.ToString().c_str());
      std::abort();
    }
  }
  Status status_;  // OK whenever value_ is set
  std::optional<T> value_;
};

}  // namespace cairn

// ASSIGN_OR_RETURN(lhs, expr): evaluates `expr` (a StatusOr); on error returns
// its status from the enclosing function, else moves the value into `lhs`,
// which may be a declaration (`auto x`) or an existing variable. It expands
// to several statements: inside an `if`, use braces.
#define ASSIGN_OR_RETURN(lhs, expr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL_(CAIRN_STATUS_CONCAT_(cairn_statusor_, __LINE__), lhs, expr)
#define CAIRN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // CAIRN_RUNTIME_BASE_STATUSOR_H_
