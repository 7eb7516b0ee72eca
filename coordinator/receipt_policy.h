// What the coordinator accepts from a worker for the ledger, as a pure
// function of (the entry, the job, the worker): no sockets, no state, so
// every rule is tested exactly (receipt_policy_test.cc).
//
// A worker may append only the entries that describe its own work on a job
// it was placed on: stepReceipt, checkpointCommitted and modelRegistered,
// signed by itself, naming the job and attempt of the task that sent them,
// for an attempt the ledger shows it placed on; and a verdict, sent by the
// verification task the ledger shows it assigned to (verifierAssigned), on
// exactly the round that task replays, timestamped no later than now. A model's royalties go
// where the submitted spec says (its author and shares), never where the
// registering worker would like. Refusals are permanent (PermissionDenied,
// InvalidArgument): sending the same entry again cannot help.
// Thread safety: pure functions.
#ifndef CAIRN_COORDINATOR_RECEIPT_POLICY_H_
#define CAIRN_COORDINATOR_RECEIPT_POLICY_H_

#include <map>
#include <string>
#include <string_view>

#include "coordinator/ledger_view.h"
#include "ledger/entry.h"

namespace cairn::coordinator {

// What a worker-signed entry says, decoded from validated bytes.
struct WorkerEntry {
  ledger::EntryType type{};
  std::string signer;   // raw Ed25519 key
  std::string job_id;
  uint32_t attempt = 0;
  uint64_t round = 0;   // stepReceipt, checkpointCommitted
  std::string blob;     // checkpointCommitted: the checkpoint's hash (raw)
  std::string author;   // modelRegistered: account hex, "" for none
  std::map<std::string, uint32_t> shares;  // modelRegistered: account hex -> basis points
  uint64_t finetune_fee = 0;                // modelRegistered
  std::string worker;                       // verdict: the challenged worker (raw)
  std::string result;                       // verdict
  int64_t timestamp_ms = 0;
  // A step receipt's identity (job, attempt, round, signer).
  ReceiptId receipt_id() const { return ReceiptId{job_id, attempt, round, signer}; }
};

// Validates the entry (signature, canonical form, limits) and decodes it.
// InvalidArgument for an entry a worker may not append.
StatusOr<WorkerEntry> DecodeWorkerEntry(std::string_view entry);

// What the coordinator knows of the job and the sender.
struct EntryContext {
  std::string sender_key;      // the Ed25519 key of the worker that sent it
  std::string update_job;      // the job and attempt of the TaskUpdate that carried it
  uint32_t update_attempt = 0;
  bool placed = false;         // the ledger shows sender_key placed on (job, entry attempt)
  std::string spec_author;     // the job's output.author (hex, "" for none)
  std::map<std::string, uint32_t> spec_shares;  // the job's output.shares
  uint64_t spec_finetune_fee = 0;               // the job's output.terms.finetune_fee
  // A verification task's target (kind: verify): the round its verdict must name.
  bool verify_task = false;
  std::string target_job;
  uint32_t target_attempt = 0;
  uint64_t target_round = 0;
  std::string target_worker;   // raw
  int64_t now_ms = 0;          // the coordinator's clock: a verdict may not come from the future
};

// OK, or the permanent reason the entry is refused.
Status CheckWorkerEntry(const WorkerEntry& e, const EntryContext& c);

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_RECEIPT_POLICY_H_
