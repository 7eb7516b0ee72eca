// Job specs: what an ML engineer writes in job.yaml (cf. SkyPilot tasks).
//
//   name: fashion-mnist-mlp            # required; [a-z0-9][a-z0-9-]*, <= 63 chars
//   kind: train                        # train | serve | benchmark
//   model: mlp                         # built-in name, or {torchscript: model.pt}
//   datasets: [fashion-mnist]          # registered dataset names or ids
//   hyperparameters: {lr: 0.001, batch_size: 64}   # free-form scalars
//   resources:
//     workers: 2                       # default 1
//     device: cpu                      # cpu | cuda (default cpu)
//     min_memory_gb: 4                 # default 0
//     regions: [eu-west]               # default: any
//     max_price_per_hour: 2.5          # credits; default: no cap
//   strategy: ddp                      # single | ddp | diloco, or {diloco: {inner_steps: 50, ...}}
//   budget: 10                         # credits held in escrow
//   checkpoint_every: 5                # rounds (default 10)
//   max_retries: 3                     # requeues after lost workers (default 3)
//   benchmark: {seconds: 10}           # kind: benchmark only
//   output: {model: my-model, license: MIT, author: <account-hex>, shares: {<account-hex>: 7000, ...},
//            terms: {finetune_fee: 0.5}}  # credits a later fine-tune of this model pays (default 0)
//           (`cairn submit` sets author to the submitter when it is absent)
//   allow_unknown_licenses: false      # true: accept licences not in the table (docs/licences.md)
//   parent: shakespeare-gpt            # fine-tune: start from this registered model
//   price: {per_request: 0.001, per_1k_tokens: 0.02, worker_share: 0.5}
//                                      # kind: serve only: what a consumer pays
//                                      # (credits) and the serving worker's part
//   priority: 0
//   verify: {p_min: 0.1, probation: 3, window: 10, chain_every: 50}
//                                      # train jobs: replays of workers' rounds (docs/verification.md);
//                                      # on by default for single and diloco, `off` to pay at once;
//                                      # ddp rounds cannot be replayed bit for bit (refused)
//   target: {...}                      # kind: verify only: the coordinator's replay tasks
//
// Every error names the file, the line and the field:
//   "job.yaml:7: resources.workers: must be an integer from 1 to 1024, got 'two'"
// Unknown keys are errors too (a typo must not silently do nothing).
// A leaf library: the scheduler, the worker and the training engine all read
// specs through it, and it depends on nothing of theirs.
// Thread safety: pure functions.
#ifndef CAIRN_JOBSPEC_JOB_SPEC_H_
#define CAIRN_JOBSPEC_JOB_SPEC_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runtime/base/statusor.h"

namespace cairn::jobspec {

// Where a job runs.
enum class Device : uint8_t { kCpu = 0, kCuda = 1 };

enum class JobKind { kTrain, kServe, kBenchmark, kVerify };
enum class Strategy { kSingle, kDdp, kDiloco };

// What a train job's submitter asks of verification (jobSubmitted carries
// replay_ppm, probation and hold; the workers use chain_every).
struct VerifyPolicySpec {
  bool on = false;
  uint32_t replay_ppm = 0;     // p_min, per million
  uint32_t probation = 0;      // rounds
  uint32_t hold = 0;           // W: audited rounds a round's pay is held
  uint32_t chain_every = 50;   // steps between fingerprints in the step chain
};

// kind: verify (made by the coordinator, never submitted): the round to
// replay and the ledger entries that describe it.
struct VerifyTarget {
  std::string job;
  uint32_t attempt = 0;
  uint64_t round = 0;
  std::string worker;          // the challenged worker's key, 64 hex digits
  uint32_t world = 0;          // the attempt's placement world (the schedule's length depends on it)
  uint64_t submitted = 0;      // ledger indices: the job's jobSubmitted,
  uint64_t receipt = 0;        // the challenged stepReceipt, its receiptAccepted,
  uint64_t accepted = 0;
  uint64_t window = 0;         // the jobPlaced that placed the worker on the attempt (when the round could start),
  uint64_t previous = 0;       // the worker's receipt of the round before on this attempt (0: none)
  uint32_t answer_seconds = 120;  // how long the worker has to disclose its state
  std::string profile;            // the receipt's determinism profile: the verifier must have it
};

struct JobSpec {
  std::string name;
  JobKind kind = JobKind::kTrain;
  std::string model;              // built-in name ("" for benchmark jobs)
  std::string torchscript_path;   // when model: {torchscript: FILE}
  std::vector<std::string> datasets;
  std::map<std::string, std::string> hyperparameters;  // scalar values as written
  uint32_t workers = 1;
  Device device = Device::kCpu;
  uint32_t gpus = 1;              // cuda: GPUs per worker (ddp: one rank per GPU, NCCL inside the worker)
  uint64_t min_memory_bytes = 0;
  std::vector<std::string> regions;
  uint64_t max_price_per_hour_micros = 0;
  Strategy strategy = Strategy::kSingle;
  std::map<std::string, std::string> strategy_options;
  uint64_t budget_micros = 0;
  uint32_t checkpoint_every = 10;
  uint32_t max_retries = 3;
  uint32_t benchmark_seconds = 10;
  int32_t priority = 0;
  std::string parent_model;       // registered model to fine-tune from ("" = from scratch)
  std::string output_model;
  std::string output_license;
  std::string output_chat_template;               // text models: roles | plain (serve/chat_template.h); "" = roles
  std::map<std::string, uint32_t> output_shares;  // account hex -> basis points
  std::string output_author;                      // account hex (64 lowercase digits); empty: the registering worker
  uint64_t output_finetune_fee_micros = 0;        // output.terms.finetune_fee: a fine-tune of the output pays this
  bool allow_unknown_licenses = false;            // accept licences not in jobspec/licence.h's table
  uint64_t price_per_request_micros = 0;          // serve
  uint64_t price_per_1k_tokens_micros = 0;        // serve
  uint32_t worker_share_bps = 5000;               // serve: the serving worker's part of each charge
  VerifyPolicySpec verify;                        // train
  VerifyTarget target;                            // verify
};

// Parses YAML text; `source` names it in errors ("job.yaml").
StatusOr<JobSpec> ParseJobSpec(const std::string& yaml, const std::string& source);
// Reads and parses a file.
StatusOr<JobSpec> LoadJobSpec(const std::string& path);

const char* JobKindName(JobKind k);
const char* StrategyName(Strategy s);

}  // namespace cairn::jobspec

#endif  // CAIRN_JOBSPEC_JOB_SPEC_H_
