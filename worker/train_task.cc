#include "worker/train_task.h"

#include <algorithm>
#include <cstdio>

#include "data/blob_store.h"
#include "ledger/verification_rules.h"
#include "runtime/base/encoding.h"
#include "train/trainer.h"
#include "worker/devices.h"
#include "worker/receipts.h"

namespace cairn::worker {
namespace {

// "[host]:port" of the attempt's rendezvous store; no host: the coordinator's.
Status ParseRendezvous(const std::string& where, const std::string& coordinator_host, std::string* host, int* port) {
  const size_t colon = where.rfind(':');
  if (colon == std::string::npos || colon + 1 >= where.size()) {
    return InvalidArgumentError("multi-worker task without a rendezvous [HOST]:PORT from the coordinator (got '" + where + "')");
  }
  *host = colon == 0 ? coordinator_host : where.substr(0, colon);
  *port = std::atoi(where.c_str() + colon + 1);
  if (*port <= 0 || *port > 65535) return InvalidArgumentError("rendezvous port out of range in '" + where + "'");
  return OkStatus();
}

}  // namespace

StatusOr<std::string> RunTrainTask(const TaskContext& c) {
  const wire::TaskAssign& task = c.task;
  const jobspec::JobSpec& spec = c.spec;
  if (spec.datasets.empty()) return InvalidArgumentError("a train job needs datasets: [NAME]");
  train::TrainTask t;
  ASSIGN_OR_RETURN(t.config, train::ConfigFromSpec(spec));
  t.job_id = task.job_id;
  t.job_name = spec.name;
  t.attempt = task.attempt;
  t.rank = task.rank;
  t.world = task.world_size;
  t.joining = task.joining;
  t.local_ranks = t.config.gpus;  // cuda ddp: one rank per GPU inside this worker
  t.gloo_host = LocalAddressToward(c.env.coordinator_host);  // "" (the host name's address) if unknown
  // The authenticated exchange: the attempt's secret and this seat's ticket.
  t.secret = task.secret;
  t.identity = c.env.identity;
  t.seat_ticket = task.seat_ticket;
  t.operator_key = task.operator_key;
  if (task.world_size > 1) {
    RETURN_IF_ERROR(ParseRendezvous(task.rendezvous, c.env.coordinator_host, &t.store_host, &t.store_port));
  }
  CoordinatorHttp http(c.env.Http());
  ASSIGN_OR_RETURN(t.dataset, http.data().GetManifest(spec.datasets[0]));
  if (t.config.model == "torchscript") {
    // `cairn submit` uploaded the user's module: fetch it by hash.
    auto hash = DigestFromHex(t.config.torchscript_path, "model.torchscript");
    if (!hash.ok()) return InvalidArgumentError("model.torchscript must name an uploaded module (sha256:HEX)");
    RETURN_IF_ERROR(http.Blob(*hash).status());  // verified and cached
    const std::string hex = HexEncode(DigestView(*hash));
    t.config.torchscript_path = c.env.cache_dir + "/" + hex.substr(0, 2) + "/" + hex;
  }
  std::string parent_hash;  // raw; lineage for modelRegistered
  if (!spec.parent_model.empty()) {
    ASSIGN_OR_RETURN(RegisteredModel parent, http.Model(spec.parent_model));
    parent_hash = std::string(DigestView(parent.hash));
    t.parent_torchscript = std::move(parent.torchscript);
  }
  if (task.resume_round > 0) {
    ASSIGN_OR_RETURN(t.resume_checkpoint, http.Checkpoint(task.job_id, task.resume_round));
    c.io.log("resuming from the checkpoint of round " + std::to_string(task.resume_round));
  }
  const std::string dataset_id(DigestView(data::DatasetId(t.dataset)));
  const ReceiptSigner signer(c.env.identity, c.env.clock, task.job_id, task.attempt);

  train::TrainHooks hooks;
  hooks.cancel = &c.cancel;
  hooks.threads = c.env.threads;
  hooks.log = c.io.log;
  hooks.misbehave = c.env.misbehave;
  // Kept for challenges: the job's window W plus a margin of rounds.
  const uint64_t keep = ledger::RetainedRounds(spec.verify.hold);
  hooks.on_round = [&](const train::RoundReport& r) -> Status {
    if (c.env.replay && spec.verify.on) {
      // Kept before the receipt is signed: a challenge of it finds it here.
      Status kept = c.env.replay->Keep(task.job_id, task.attempt, r.round, r.state_bytes, r.steps_blob, keep);
      if (!kept.ok()) c.io.log("round " + std::to_string(r.round) + ": its state was not kept for a replay: " + kept.ToString());
    }
    ASSIGN_OR_RETURN(std::string entry, signer.StepReceipt(r));
    // The update goes up with it: the coordinator's cheap checks read it.
    return c.io.receipt(entry, spec.verify.on ? r.update : std::string());
  };
  hooks.on_checkpoint = [&](uint64_t round, const std::string& bytes, const kernels::Digest256& fp) -> Status {
    if (bytes.size() > data::kMaxBlobBytes) {  // training goes on; a requeue would start from an older one
      c.io.log("checkpoint of round " + std::to_string(round) + " not saved: " + std::to_string(bytes.size() >> 20) +
               " MiB is over the blob store's limit of " + std::to_string(data::kMaxBlobBytes >> 20) + " MiB");
      return OkStatus();
    }
    ASSIGN_OR_RETURN(std::string entry, signer.CheckpointCommitted(round, Sha256(bytes), bytes.size(), fp));
    RETURN_IF_ERROR(c.io.receipt(entry, bytes));  // uploaded, then committed, in the background
    c.io.log("checkpoint of round " + std::to_string(round) + " saved (" + std::to_string(bytes.size() / 1024) + " KiB)");
    return OkStatus();
  };
  auto trained = train::RunTraining(t, http.data(), hooks);
  if (!trained.ok() && t.joining && trained.status().code() == StatusCode::kFailedPrecondition) {
    return "did not join: " + std::string(trained.status().message());  // the job ended first; nothing is wrong
  }
  ASSIGN_OR_RETURN(train::TrainResult result, std::move(trained));
  char summary[256];
  std::snprintf(summary, sizeof(summary), "%llu rounds in %.1f s, final loss %.4f",
                static_cast<unsigned long long>(result.rounds - result.first_round + 1), result.seconds, result.final_loss);
  std::string message = summary;
  if (!result.leader) return message;

  // The leader registers the model with its lineage.
  if (result.torchscript.size() > data::kMaxBlobBytes) {
    return FailedPreconditionError("the trained model is " + std::to_string(result.torchscript.size() >> 20) +
                                   " MiB; the coordinator's blob store takes at most " +
                                   std::to_string(data::kMaxBlobBytes >> 20) + " MiB");
  }
  const Sha256Digest model_hash = Sha256(result.torchscript);
  const ModelRegistration reg = RegistrationFor(spec, model_hash, parent_hash, dataset_id);
  ASSIGN_OR_RETURN(std::string entry, signer.ModelRegistered(reg));
  RETURN_IF_ERROR(c.io.receipt(entry, std::move(result.torchscript)));
  char eval[160];
  std::snprintf(eval, sizeof(eval), "; %s %.4f; model '%s' (%s) registered",
                t.dataset.format == data::Format::kIdx ? "test accuracy" : "validation loss", result.final_eval,
                reg.name.c_str(), HexEncode(DigestView(model_hash)).substr(0, 16).c_str());
  return message + eval;
}

}  // namespace cairn::worker
