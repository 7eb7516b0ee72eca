#include "runtime/base/status.h"

#include <cerrno>

#include <gtest/gtest.h>

#include "runtime/base/statusor.h"

namespace cairn {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(Status, ErrorCarriesCodeAndMessage) {
  Status s = InvalidArgumentError("field 'name' is empty");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: field 'name' is empty");
  EXPECT_EQ(s.WithContext("job.yaml").message(), "job.yaml: field 'name' is empty");
  EXPECT_TRUE(OkStatus().WithContext("x").ok());
}

TEST(Status, OkCodeWithMessageIsOk) {
  Status s(StatusCode::kOk, "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(Status, EveryCanonicalCodeHasAName) {
  for (int c = 0; c <= kMaxStatusCode; ++c) {
    EXPECT_EQ(StatusCodeFromInt(c), static_cast<StatusCode>(c));
    EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(c)).find("UNKNOWN_CODE"), std::string::npos);
  }
  EXPECT_EQ(StatusCodeFromInt(-1), StatusCode::kUnknown);
  EXPECT_EQ(StatusCodeFromInt(99), StatusCode::kUnknown);
}

TEST(Status, ErrnoMapsToCanonicalCodes) {
  EXPECT_EQ(ErrnoToStatus(ENOENT, "open k").code(), StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToStatus(EACCES, "open k").code(), StatusCode::kPermissionDenied);
  EXPECT_NE(ErrnoToStatus(ENOENT, "open k").message().find("open k: "), std::string::npos);
}

Status FailsIf(bool fail) { return fail ? NotFoundError("nope") : OkStatus(); }
Status Chain(bool fail, int* reached) {
  RETURN_IF_ERROR(FailsIf(fail));
  *reached = 1;
  return OkStatus();
}

TEST(Status, ReturnIfErrorShortCircuits) {
  int reached = 0;
  EXPECT_EQ(Chain(true, &reached).code(), StatusCode::kNotFound);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(Chain(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd");
  return x / 2;
}
StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(auto q, Half(h));
  return q;
}

TEST(StatusOr, AssignOrReturn) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(6).value_or(-1), -1);
}

TEST(StatusOr, OkStatusWithoutValueBecomesInternal) {
  StatusOr<int> s(OkStatus());
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInternal);
}

TEST(StatusOr, MoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> p(std::make_unique<int>(7));
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> v = std::move(p).value();
  EXPECT_EQ(*v, 7);
}

TEST(StatusOrDeathTest, ValueOfErrorAborts) {
  StatusOr<int> s(NotFoundError("missing thing"));
  EXPECT_DEATH((void)s.value(), "missing thing");
}

TEST(Status, MapsToHttpTheCanonicalWay) {
  EXPECT_EQ(HttpStatusOf(OkStatus()), 200);
  EXPECT_EQ(HttpStatusOf(InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusOf(FailedPreconditionError("x")), 400);
  EXPECT_EQ(HttpStatusOf(UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusOf(PermissionDeniedError("x")), 403);
  EXPECT_EQ(HttpStatusOf(NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusOf(UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusOf(InternalError("x")), 500);
}

}  // namespace
}  // namespace cairn
