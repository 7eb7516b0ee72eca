// The entries a submitter signs for a training job's money: jobSubmitted
// (`cairn submit`) and jobToppedUp (`cairn jobs top-up`), how they are
// built, and how the coordinator checks one against what it was sent.
//
// A submission is the submitter's word on exactly this: the job id, the
// SHA-256 of the exact spec text, the datasets it resolves to (ids, in the
// spec's order), the budget, the price cap and a fine-tune's parent. The
// coordinator recomputes each from the spec it received and refuses an
// entry that differs in any, or that is signed by another key than the one
// the request came over (its CURVE key is derived from the same Ed25519
// identity, runtime/crypto/x25519.h); it then appends the entry unchanged.
// Thread safety: pure functions.
#ifndef CAIRN_COORDINATOR_SUBMISSION_H_
#define CAIRN_COORDINATOR_SUBMISSION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jobspec/job_spec.h"
#include "runtime/base/statusor.h"
#include "runtime/crypto/ed25519.h"

namespace cairn::coordinator {

struct SubmissionFacts {
  std::string job_id;
  std::string spec_text;
  std::vector<std::string> datasets;  // raw ids
  uint64_t budget_micros = 0;
  uint64_t max_price_per_hour_micros = 0;
  std::string parent_model;           // raw hash, "" for none
  uint32_t replay_ppm = 0, probation = 0, hold = 0;  // the spec's verify: policy (all 0: off)
};

// The verification terms a spec's `verify:` asks for, as a submission signs them.
void SetVerifyTerms(const jobspec::VerifyPolicySpec& v, SubmissionFacts* facts);

// A fresh job id for a spec named `name`: "<name>-<6 hex digits>".
std::string NewJobId(const std::string& name);

StatusOr<std::string> SignSubmission(const Ed25519PrivateKey& submitter, int64_t now_unix_millis,
                                     const SubmissionFacts& facts);
// The job id a submission names (InvalidArgument if it is not a valid
// jobSubmitted entry, or the id does not start with "<spec name>-").
StatusOr<std::string> SubmissionJobId(std::string_view entry, const std::string& spec_name);
// The submitter's key (raw) if `entry` says exactly `expected` and is signed
// by the identity whose CURVE key is `peer_curve_key`. PermissionDenied for
// another signer, InvalidArgument naming the first field that differs.
StatusOr<std::string> CheckSubmission(std::string_view entry, const SubmissionFacts& expected,
                                      std::string_view peer_curve_key);

struct TopUp {
  std::string job_id;
  std::string submitter;  // raw key
  uint64_t amount_micros = 0;
};
StatusOr<std::string> SignTopUp(const Ed25519PrivateKey& submitter, int64_t now_unix_millis, const std::string& job_id,
                                uint64_t amount_micros);
// Decodes a jobToppedUp entry signed by the identity behind `peer_curve_key`.
StatusOr<TopUp> CheckTopUp(std::string_view entry, std::string_view peer_curve_key);

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_SUBMISSION_H_
