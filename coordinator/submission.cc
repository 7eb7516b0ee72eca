#include "coordinator/submission.h"

#include <openssl/rand.h>

#include "ledger/entry.h"
#include "runtime/base/encoding.h"
#include "runtime/crypto/sha256.h"
#include "runtime/crypto/x25519.h"

namespace cairn::coordinator {
namespace {

using ledger::AsData;
using ledger::FromData;

Status SignedByPeer(const std::string& actor, std::string_view peer_curve_key, const char* what) {
  ASSIGN_OR_RETURN(std::string curve, X25519PublicFromEd25519Public(actor));
  if (curve != peer_curve_key) {
    return PermissionDeniedError(std::string(what) + " is signed by " + HexEncode(actor).substr(0, 16) +
                                 "..., not by the identity this request came from");
  }
  return OkStatus();
}

StatusOr<ledger::EntryReader> OpenAs(std::string_view entry, ledger::EntryType type, const char* what) {
  ASSIGN_OR_RETURN(ledger::EntryHeader h, ledger::ValidateEntry(entry));
  if (h.type != type) {
    return InvalidArgumentError(std::string("the signed entry must be a ") + what + ", not a " + ledger::EntryTypeName(h.type));
  }
  return ledger::EntryReader::Open(entry);
}

}  // namespace

void SetVerifyTerms(const jobspec::VerifyPolicySpec& v, SubmissionFacts* facts) {
  facts->replay_ppm = v.on ? v.replay_ppm : 0;
  facts->probation = v.on ? v.probation : 0;
  facts->hold = v.on ? v.hold : 0;
}

std::string NewJobId(const std::string& name) {
  unsigned char b[3];
  RAND_bytes(b, sizeof(b));
  return name + "-" + HexEncode(std::string_view(reinterpret_cast<char*>(b), sizeof(b)));
}

StatusOr<std::string> SignSubmission(const Ed25519PrivateKey& submitter, int64_t now, const SubmissionFacts& f) {
  const std::string spec_hash = Sha256Bytes(f.spec_text);
  return ledger::MakeEntry(submitter, now, [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto j = b.initJobSubmitted();
    j.setJobId(f.job_id);
    j.setSpecHash(AsData(spec_hash));
    auto ds = j.initDatasets(static_cast<unsigned>(f.datasets.size()));
    for (unsigned i = 0; i < f.datasets.size(); ++i) ds.set(i, AsData(f.datasets[i]));
    j.setBudgetMicros(f.budget_micros);
    j.setMaxPricePerHourMicros(f.max_price_per_hour_micros);
    j.setParentModel(AsData(f.parent_model));
    j.setReplayPpm(f.replay_ppm);
    j.setProbationRounds(f.probation);
    j.setHoldRounds(f.hold);
  });
}

StatusOr<std::string> SubmissionJobId(std::string_view entry, const std::string& spec_name) {
  ASSIGN_OR_RETURN(ledger::EntryReader r, OpenAs(entry, ledger::schema::LedgerEntry::Body::JOB_SUBMITTED, "jobSubmitted"));
  std::string id = r.root().getBody().getJobSubmitted().getJobId().cStr();
  const std::string prefix = spec_name + "-";
  bool ok = id.size() > prefix.size() && id.size() <= 96 && id.compare(0, prefix.size(), prefix) == 0;
  for (char c : id) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok) return InvalidArgumentError("job id '" + id.substr(0, 96) + "' must be '" + prefix + "' and a suffix of [a-z0-9-]");
  return id;
}

StatusOr<std::string> CheckSubmission(std::string_view entry, const SubmissionFacts& want,
                                      std::string_view peer_curve_key) {
  ASSIGN_OR_RETURN(ledger::EntryReader r, OpenAs(entry, ledger::schema::LedgerEntry::Body::JOB_SUBMITTED, "jobSubmitted"));
  auto root = r.root();
  const std::string submitter = FromData(root.getActor());
  RETURN_IF_ERROR(SignedByPeer(submitter, peer_curve_key, "the submission"));
  auto j = root.getBody().getJobSubmitted();
  auto differs = [](const std::string& field, const std::string& says, const std::string& is) {
    return InvalidArgumentError("the signed submission's " + field + " is " + says + ", but the spec sent gives " + is);
  };
  if (j.getJobId().cStr() != want.job_id) return differs("job id", j.getJobId().cStr(), want.job_id);
  const std::string hash = Sha256Bytes(want.spec_text);
  if (FromData(j.getSpecHash()) != hash) {
    return differs("spec hash", HexEncode(FromData(j.getSpecHash())).substr(0, 16) + "...",
                   HexEncode(hash).substr(0, 16) + "... (the spec was altered after signing)");
  }
  std::vector<std::string> datasets;
  for (auto d : j.getDatasets()) datasets.push_back(FromData(d));
  if (datasets != want.datasets) {
    return differs("dataset list", std::to_string(datasets.size()) + " ids", std::to_string(want.datasets.size()) +
                                                                                 " other ids (resolved by this coordinator)");
  }
  if (j.getBudgetMicros() != want.budget_micros) {
    return differs("budget", std::to_string(j.getBudgetMicros()) + " micro-credits",
                   std::to_string(want.budget_micros));
  }
  if (j.getMaxPricePerHourMicros() != want.max_price_per_hour_micros) {
    return differs("price cap", std::to_string(j.getMaxPricePerHourMicros()),
                   std::to_string(want.max_price_per_hour_micros));
  }
  if (FromData(j.getParentModel()) != want.parent_model) {
    return differs("parent model", HexEncode(FromData(j.getParentModel())).substr(0, 16),
                   HexEncode(want.parent_model).substr(0, 16));
  }
  if (j.getReplayPpm() != want.replay_ppm || j.getProbationRounds() != want.probation || j.getHoldRounds() != want.hold) {
    return differs("verification terms",
                   std::to_string(j.getReplayPpm()) + " ppm / " + std::to_string(j.getProbationRounds()) + " / " +
                       std::to_string(j.getHoldRounds()),
                   std::to_string(want.replay_ppm) + " ppm / " + std::to_string(want.probation) + " / " +
                       std::to_string(want.hold) + " (p_min / probation / window)");
  }
  return submitter;
}

StatusOr<std::string> SignTopUp(const Ed25519PrivateKey& submitter, int64_t now, const std::string& job_id,
                                uint64_t amount_micros) {
  return ledger::MakeEntry(submitter, now, [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto t = b.initJobToppedUp();
    t.setJobId(job_id);
    t.setAmountMicros(amount_micros);
  });
}

StatusOr<TopUp> CheckTopUp(std::string_view entry, std::string_view peer_curve_key) {
  ASSIGN_OR_RETURN(ledger::EntryReader r, OpenAs(entry, ledger::schema::LedgerEntry::Body::JOB_TOPPED_UP, "jobToppedUp"));
  auto root = r.root();
  TopUp t;
  t.submitter = FromData(root.getActor());
  RETURN_IF_ERROR(SignedByPeer(t.submitter, peer_curve_key, "the top-up"));
  t.job_id = root.getBody().getJobToppedUp().getJobId().cStr();
  t.amount_micros = root.getBody().getJobToppedUp().getAmountMicros();
  return t;
}

}  // namespace cairn::coordinator
