#include "ledger/entry_json.h"

#include "ledger/entry.h"
#include "runtime/base/encoding.h"

namespace cairn::ledger {
namespace {

using Body = schema::LedgerEntry::Body;
using nlohmann::json;

std::string Hex(capnp::Data::Reader d) { return HexEncode(FromData(d)); }
std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }
json HexList(capnp::List<capnp::Data>::Reader l) {
  json out = json::array();
  for (auto d : l) out.push_back(Hex(d));
  return out;
}

json BodyJson(Body::Reader body) {
  switch (body.which()) {
    case Body::TEST: {
      auto b = body.getTest();
      return {{"sequence", b.getSequence()}, {"payload_bytes", b.getPayload().size()}};
    }
    case Body::ACCOUNT_CREDITED: {
      auto b = body.getAccountCredited();
      return {{"account", Hex(b.getAccount())}, {"amount_micros", b.getAmountMicros()}, {"memo", Str(b.getMemo())}};
    }
    case Body::DATASET_REGISTERED: {
      auto b = body.getDatasetRegistered();
      return {{"dataset_id", Hex(b.getDatasetId())}, {"name", Str(b.getName())}, {"format", Str(b.getFormat())},
              {"size_bytes", b.getSizeBytes()},      {"chunks", b.getChunks()},   {"samples", b.getSamples()},
              {"license", Str(b.getLicense())},      {"price_per_1k_samples_micros", b.getPricePer1kSamplesMicros()}};
    }
    case Body::JOB_SUBMITTED: {
      auto b = body.getJobSubmitted();
      return {{"job_id", Str(b.getJobId())}, {"spec_hash", Hex(b.getSpecHash())},
              {"datasets", HexList(b.getDatasets())}, {"budget_micros", b.getBudgetMicros()},
              {"max_price_per_hour_micros", b.getMaxPricePerHourMicros()}, {"parent_model", Hex(b.getParentModel())},
              {"replay_ppm", b.getReplayPpm()}, {"probation_rounds", b.getProbationRounds()},
              {"hold_rounds", b.getHoldRounds()}};
    }
    case Body::JOB_PLACED: {
      auto b = body.getJobPlaced();
      json workers = json::array();
      for (auto w : b.getWorkers()) {
        workers.push_back({{"worker", Hex(w.getWorker())}, {"rank", w.getRank()},
                           {"price_per_hour_micros", w.getPricePerHourMicros()}});
      }
      return {{"job_id", Str(b.getJobId())}, {"attempt", b.getAttempt()}, {"workers", workers}};
    }
    case Body::STEP_RECEIPT: {
      auto b = body.getStepReceipt();
      json consumed = json::array();
      for (auto c : b.getConsumed()) {
        consumed.push_back({{"dataset_id", Hex(c.getDatasetId())}, {"chunk", c.getChunk()}, {"samples", c.getSamples()}});
      }
      json members = json::array();
      for (auto m : b.getMembers()) members.push_back(m);
      return {{"job_id", Str(b.getJobId())},
              {"attempt", b.getAttempt()},
              {"round", b.getRound()},
              {"steps", b.getSteps()},
              {"start_unix_millis", b.getStartUnixMillis()},
              {"end_unix_millis", b.getEndUnixMillis()},
              {"consumed", consumed},
              {"fingerprint_before", Hex(b.getFingerprintBefore())},
              {"fingerprint_after", Hex(b.getFingerprintAfter())},
              {"loss", b.getLoss()},
              {"update_hash", Hex(b.getUpdateHash())},
              {"steps_hash", Hex(b.getStepsHash())},
              {"state_hash", Hex(b.getStateHash())},
              {"optimizer_hash", Hex(b.getOptimizerHash())},
              {"profile", Str(b.getProfile())},
              {"rank", b.getRank()},
              {"members", members},
              {"chain_every", b.getChainEvery()}};
    }
    case Body::CHECKPOINT_COMMITTED: {
      auto b = body.getCheckpointCommitted();
      return {{"job_id", Str(b.getJobId())}, {"attempt", b.getAttempt()}, {"round", b.getRound()}, {"blob_hash", Hex(b.getBlobHash())},
              {"fingerprint", Hex(b.getFingerprint())}, {"size_bytes", b.getSizeBytes()}};
    }
    case Body::MODEL_REGISTERED: {
      auto b = body.getModelRegistered();
      json shares = json::array();
      for (auto s : b.getShares()) shares.push_back({{"account", Hex(s.getAccount())}, {"basis_points", s.getBasisPoints()}});
      return {{"name", Str(b.getName())},
              {"model_hash", Hex(b.getModelHash())},
              {"parent_model", Hex(b.getParentModel())},
              {"author", Hex(b.getAuthor())},
              {"job_id", Str(b.getJobId())},
              {"datasets", HexList(b.getDatasets())},
              {"license", Str(b.getLicense())},
              {"shares", shares},
              {"price_per_1k_tokens_micros", b.getPricePer1kTokensMicros()},
              {"price_per_request_micros", b.getPricePerRequestMicros()},
              {"finetune_fee_micros", b.getFinetuneFeeMicros()}};
    }
    case Body::INFERENCE_USAGE: {
      auto b = body.getInferenceUsage();
      return {{"model", Hex(b.getModel())},
              {"consumer", Hex(b.getConsumer())},
              {"worker", Hex(b.getWorker())},
              {"requests", b.getRequests()},
              {"tokens", b.getTokens()},
              {"charge_micros", b.getChargeMicros()},
              {"worker_micros", b.getWorkerMicros()},
              {"window_start_unix_millis", b.getWindowStartUnixMillis()},
              {"window_end_unix_millis", b.getWindowEndUnixMillis()}};
    }
    case Body::SETTLEMENT: {
      auto b = body.getSettlement();
      return {{"account", Hex(b.getAccount())}, {"amount_micros", b.getAmountMicros()}, {"reference", Str(b.getReference())}};
    }
    case Body::RECEIPT_ACCEPTED: {
      auto b = body.getReceiptAccepted();
      return {{"job_id", Str(b.getJobId())}, {"attempt", b.getAttempt()}, {"round", b.getRound()},
              {"worker", Hex(b.getWorker())}};
    }
    case Body::JOB_TOPPED_UP: {
      auto b = body.getJobToppedUp();
      return {{"job_id", Str(b.getJobId())}, {"amount_micros", b.getAmountMicros()}};
    }
    case Body::JOB_CLOSED: {
      auto b = body.getJobClosed();
      return {{"job_id", Str(b.getJobId())},           {"outcome", Str(b.getOutcome())},
              {"budget_micros", b.getBudgetMicros()},  {"compute_micros", b.getComputeMicros()},
              {"data_micros", b.getDataMicros()},      {"fee_micros", b.getFeeMicros()},
              {"refund_micros", b.getRefundMicros()},  {"verify_micros", b.getVerifyMicros()},
              {"forfeit_micros", b.getForfeitMicros()}};
    }
    case Body::ROUND_AUDITED: {
      auto b = body.getRoundAudited();
      json rows = json::array();
      for (auto r : b.getRows()) rows.push_back({{"worker", Hex(r.getWorker())}, {"flags", r.getFlags()}, {"note", Str(r.getNote())}});
      return {{"job_id", Str(b.getJobId())}, {"attempt", b.getAttempt()}, {"round", b.getRound()}, {"rows", rows}};
    }
    case Body::VERIFIER_ASSIGNED: {
      auto b = body.getVerifierAssigned();
      return {{"job_id", Str(b.getJobId())},       {"attempt", b.getAttempt()},
              {"round", b.getRound()},             {"worker", Hex(b.getWorker())},
              {"verifier", Hex(b.getVerifier())},  {"price_per_hour_micros", b.getPricePerHourMicros()},
              {"task", Str(b.getTask())},          {"task_attempt", b.getTaskAttempt()}};
    }
    case Body::VERDICT: {
      auto b = body.getVerdict();
      return {{"job_id", Str(b.getJobId())},
              {"attempt", b.getAttempt()},
              {"round", b.getRound()},
              {"worker", Hex(b.getWorker())},
              {"result", Str(b.getResult())},
              {"step", b.getStep()},
              {"reason", Str(b.getReason())},
              {"replay_start_unix_millis", b.getReplayStartUnixMillis()},
              {"replay_end_unix_millis", b.getReplayEndUnixMillis()},
              {"profile", Str(b.getProfile())}};
    }
  }
  return json::object();
}

}  // namespace

StatusOr<nlohmann::json> EntryToJson(std::string_view entry) {
  ASSIGN_OR_RETURN(EntryReader reader, EntryReader::Open(entry));
  try {
    auto root = reader.root();
    return json{{"type", EntryTypeName(root.getBody().which())},
                {"version", root.getVersion()},
                {"timestamp_unix_millis", root.getTimestampUnixMillis()},
                {"actor", Hex(root.getActor())},
                {"signature", Base64Encode(FromData(root.getSignature()))},
                {"body", BodyJson(root.getBody())}};
  } catch (const kj::Exception& e) {
    return InvalidArgumentError(std::string("malformed entry: ") + e.getDescription().cStr());
  }
}

}  // namespace cairn::ledger
