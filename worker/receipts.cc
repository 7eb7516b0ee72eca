#include "worker/receipts.h"

#include "ledger/entry.h"
#include "runtime/base/encoding.h"

namespace cairn::worker {
namespace {

std::string Raw(const kernels::Digest256& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }

}  // namespace

StatusOr<std::string> ReceiptSigner::StepReceipt(const train::RoundReport& r) const {
  return ledger::MakeEntry(*key_, clock_->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto s = b.initStepReceipt();
    s.setJobId(job_id_);
    s.setAttempt(attempt_);
    s.setRound(r.round);
    s.setSteps(r.steps);
    s.setStartUnixMillis(r.start_unix_ms);
    s.setEndUnixMillis(r.end_unix_ms);
    auto used = s.initConsumed(static_cast<unsigned>(r.consumed.size()));
    for (unsigned i = 0; i < r.consumed.size(); ++i) {
      used[i].setDatasetId(ledger::AsData(std::string(DigestView(r.consumed[i].dataset))));
      used[i].setChunk(r.consumed[i].chunk);
      used[i].setSamples(r.consumed[i].samples);
    }
    s.setFingerprintBefore(ledger::AsData(Raw(r.fingerprint_before)));
    s.setFingerprintAfter(ledger::AsData(Raw(r.fingerprint_after)));
    s.setLoss(r.loss);
    // What a replay checks (docs/verification.md); none without verification.
    if (r.chain_every == 0) return;
    s.setUpdateHash(ledger::AsData(std::string(DigestView(r.update_hash))));
    s.setStepsHash(ledger::AsData(std::string(DigestView(r.steps_hash))));
    s.setStateHash(ledger::AsData(std::string(DigestView(r.state_hash))));
    s.setOptimizerHash(ledger::AsData(std::string(DigestView(r.optimizer_hash))));
    s.setProfile(r.profile);
    s.setRank(r.rank);
    auto members = s.initMembers(static_cast<unsigned>(r.group.size()));
    for (unsigned i = 0; i < r.group.size(); ++i) members.set(i, r.group[i]);
    s.setChainEvery(r.chain_every);
  });
}

StatusOr<std::string> ReceiptSigner::CheckpointCommitted(uint64_t round, const Sha256Digest& blob_hash, uint64_t size_bytes,
                                                         const kernels::Digest256& fingerprint) const {
  return ledger::MakeEntry(*key_, clock_->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto c = b.initCheckpointCommitted();
    c.setJobId(job_id_);
    c.setAttempt(attempt_);
    c.setRound(round);
    c.setBlobHash(ledger::AsData(std::string(DigestView(blob_hash))));
    c.setFingerprint(ledger::AsData(Raw(fingerprint)));
    c.setSizeBytes(size_bytes);
  });
}

StatusOr<std::string> ReceiptSigner::ModelRegistered(const ModelRegistration& model) const {
  std::string author;
  if (!model.author_hex.empty()) {
    ASSIGN_OR_RETURN(author, DecodeAccount(model.author_hex));
  }
  std::map<std::string, uint32_t> shares;
  for (const auto& [hex, bp] : model.shares) {
    ASSIGN_OR_RETURN(std::string account, DecodeAccount(hex));
    shares[account] += bp;
  }
  return ledger::MakeEntry(*key_, clock_->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto m = b.initModelRegistered();
    m.setName(model.name);
    m.setModelHash(ledger::AsData(std::string(DigestView(model.model_hash))));
    m.setJobId(job_id_);
    m.setParentModel(ledger::AsData(model.parent_hash));
    if (!model.dataset_id.empty()) m.initDatasets(1).set(0, ledger::AsData(model.dataset_id));
    m.setLicense(model.license.empty() ? "proprietary" : model.license);
    m.setAuthor(ledger::AsData(author));
    m.setFinetuneFeeMicros(model.finetune_fee_micros);
    auto list = m.initShares(static_cast<unsigned>(shares.size()));
    unsigned i = 0;
    for (const auto& [account, bp] : shares) {
      list[i].setAccount(ledger::AsData(account));
      list[i].setBasisPoints(bp);
      ++i;
    }
  });
}

StatusOr<std::string> SignVerdict(const Ed25519PrivateKey& key, const Clock& clock, const VerdictReport& v) {
  return ledger::MakeEntry(key, clock.NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto d = b.initVerdict();
    d.setJobId(v.job);
    d.setAttempt(v.attempt);
    d.setRound(v.round);
    d.setWorker(ledger::AsData(v.worker));
    d.setResult(v.result);
    d.setStep(v.step);
    d.setReason(v.reason.substr(0, 256));
    d.setReplayStartUnixMillis(v.start_unix_ms);
    d.setReplayEndUnixMillis(v.end_unix_ms);
    d.setProfile(v.profile.substr(0, 256));
  });
}

ModelRegistration RegistrationFor(const jobspec::JobSpec& spec, const Sha256Digest& model_hash,
                                  const std::string& parent_hash, const std::string& dataset_id) {
  ModelRegistration m;
  m.name = spec.output_model.empty() ? spec.name : spec.output_model;
  m.model_hash = model_hash;
  m.parent_hash = parent_hash;
  m.dataset_id = dataset_id;
  m.license = spec.output_license;
  m.author_hex = spec.output_author;
  m.shares = spec.output_shares;
  m.finetune_fee_micros = spec.output_finetune_fee_micros;
  return m;
}

}  // namespace cairn::worker
