// ReceiptSigner: the ledger entries a worker signs for its work, built in
// one place (docs/ledger.md): a stepReceipt per round, a
// checkpointCommitted per checkpoint (rank 0), and a modelRegistered at the
// end of a training job (the leader). Each names the job and its attempt;
// (job, attempt, round, signer) is a receipt's identity in the ledger.
// Thread safety: const methods, safe from any thread.
#ifndef CAIRN_WORKER_RECEIPTS_H_
#define CAIRN_WORKER_RECEIPTS_H_

#include <map>
#include <string>

#include "jobspec/job_spec.h"
#include "runtime/base/clock.h"
#include "runtime/crypto/ed25519.h"
#include "runtime/crypto/sha256.h"
#include "train/trainer.h"

namespace cairn::worker {

// What a modelRegistered entry says about the model.
struct ModelRegistration {
  std::string name;
  Sha256Digest model_hash{};
  std::string parent_hash;   // raw 32 bytes, or "" for a model trained from scratch
  std::string dataset_id;    // raw 32 bytes
  std::string license;       // "" -> "proprietary"
  std::string author_hex;    // 64 hex digits, or "" for the signer
  std::map<std::string, uint32_t> shares;  // account hex -> basis points
  uint64_t finetune_fee_micros = 0;        // output.terms.finetune_fee
};

class ReceiptSigner {
 public:
  // `key` and `clock` outlive the signer.
  ReceiptSigner(const Ed25519PrivateKey* key, const Clock* clock, std::string job_id, uint32_t attempt)
      : key_(key), clock_(clock), job_id_(std::move(job_id)), attempt_(attempt) {}

  StatusOr<std::string> StepReceipt(const train::RoundReport& round) const;
  StatusOr<std::string> CheckpointCommitted(uint64_t round, const Sha256Digest& blob_hash, uint64_t size_bytes,
                                            const kernels::Digest256& fingerprint) const;
  // InvalidArgument if an author or share account is not 64 hex digits.
  StatusOr<std::string> ModelRegistered(const ModelRegistration& model) const;

 private:
  const Ed25519PrivateKey* key_;
  const Clock* clock_;
  std::string job_id_;
  uint32_t attempt_;
};

// A replay's result (docs/verification.md), signed by the verifier.
struct VerdictReport {
  std::string job;
  uint32_t attempt = 0;
  uint64_t round = 0;
  std::string worker;  // the challenged worker's key, raw
  std::string result;  // pass | fail | not comparable
  uint32_t step = 0;   // fail: the first diverging step (steps + 1: the update; 0: before any)
  std::string reason;
  int64_t start_unix_ms = 0, end_unix_ms = 0;  // the replay's
  std::string profile;                         // the verifier's
};
StatusOr<std::string> SignVerdict(const Ed25519PrivateKey& key, const Clock& clock, const VerdictReport& v);

// The registration a finished training job's leader signs, from its spec.
ModelRegistration RegistrationFor(const jobspec::JobSpec& spec, const Sha256Digest& model_hash,
                                  const std::string& parent_hash, const std::string& dataset_id);

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_RECEIPTS_H_
