#include "ledger/entry.h"

#include <cmath>
#include <cstring>

#include <capnp/serialize.h>

namespace cairn::ledger {
namespace {

using Body = schema::LedgerEntry::Body;

Status Bytes32(capnp::Data::Reader d, const std::string& field) {
  if (d.size() != 32) {
    return InvalidArgumentError(field + " must be 32 bytes, got " + std::to_string(d.size()));
  }
  return OkStatus();
}
Status Bytes32OrEmpty(capnp::Data::Reader d, const std::string& field) {
  return d.size() == 0 ? OkStatus() : Bytes32(d, field);
}
Status TextLimit(capnp::Text::Reader t, const std::string& field, size_t max = kMaxEntryText) {
  if (t.size() > max) {
    return OutOfRangeError(field + " is " + std::to_string(t.size()) + " bytes; limit " + std::to_string(max));
  }
  for (char c : t) {
    if (static_cast<unsigned char>(c) < 0x20) return InvalidArgumentError(field + " has a control character");
  }
  return OkStatus();
}
Status NonEmpty(capnp::Text::Reader t, const std::string& field) {
  if (t.size() == 0) return InvalidArgumentError(field + " is empty");
  return TextLimit(t, field);
}
template <typename List>
Status ListLimit(const List& l, const std::string& field, size_t max = kMaxEntryList) {
  if (l.size() > max) {
    return OutOfRangeError(field + " has " + std::to_string(l.size()) + " items; limit " + std::to_string(max));
  }
  return OkStatus();
}
Status KeyList(capnp::List<capnp::Data>::Reader l, const std::string& field) {
  RETURN_IF_ERROR(ListLimit(l, field));
  for (unsigned i = 0; i < l.size(); ++i) RETURN_IF_ERROR(Bytes32(l[i], field + "[" + std::to_string(i) + "]"));
  return OkStatus();
}

Status ValidateBody(Body::Reader body) {
  switch (body.which()) {
    case Body::TEST: {
      auto b = body.getTest();
      if (b.getPayload().size() > kMaxTestPayload) return OutOfRangeError("test.payload is too large");
      return OkStatus();
    }
    case Body::ACCOUNT_CREDITED: {
      auto b = body.getAccountCredited();
      RETURN_IF_ERROR(Bytes32(b.getAccount(), "accountCredited.account"));
      if (b.getAmountMicros() == 0) return InvalidArgumentError("accountCredited.amountMicros is zero");
      return TextLimit(b.getMemo(), "accountCredited.memo");
    }
    case Body::DATASET_REGISTERED: {
      auto b = body.getDatasetRegistered();
      RETURN_IF_ERROR(Bytes32(b.getDatasetId(), "datasetRegistered.datasetId"));
      RETURN_IF_ERROR(NonEmpty(b.getName(), "datasetRegistered.name"));
      RETURN_IF_ERROR(TextLimit(b.getFormat(), "datasetRegistered.format"));
      RETURN_IF_ERROR(NonEmpty(b.getLicense(), "datasetRegistered.license"));
      if (b.getChunks() == 0) return InvalidArgumentError("datasetRegistered.chunks is zero");
      return OkStatus();
    }
    case Body::JOB_SUBMITTED: {
      auto b = body.getJobSubmitted();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "jobSubmitted.jobId"));
      RETURN_IF_ERROR(Bytes32(b.getSpecHash(), "jobSubmitted.specHash"));
      RETURN_IF_ERROR(Bytes32OrEmpty(b.getParentModel(), "jobSubmitted.parentModel"));
      return KeyList(b.getDatasets(), "jobSubmitted.datasets");
    }
    case Body::JOB_PLACED: {
      auto b = body.getJobPlaced();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "jobPlaced.jobId"));
      auto workers = b.getWorkers();
      RETURN_IF_ERROR(ListLimit(workers, "jobPlaced.workers"));
      if (workers.size() == 0) return InvalidArgumentError("jobPlaced.workers is empty");
      for (unsigned i = 0; i < workers.size(); ++i) {
        RETURN_IF_ERROR(Bytes32(workers[i].getWorker(), "jobPlaced.workers[" + std::to_string(i) + "].worker"));
      }
      return OkStatus();
    }
    case Body::STEP_RECEIPT: {
      auto b = body.getStepReceipt();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "stepReceipt.jobId"));
      if (b.getEndUnixMillis() < b.getStartUnixMillis()) {
        return InvalidArgumentError("stepReceipt ends before it starts");
      }
      auto consumed = b.getConsumed();
      RETURN_IF_ERROR(ListLimit(consumed, "stepReceipt.consumed", kMaxChunkUses));
      for (unsigned i = 0; i < consumed.size(); ++i) {
        RETURN_IF_ERROR(
            Bytes32(consumed[i].getDatasetId(), "stepReceipt.consumed[" + std::to_string(i) + "].datasetId"));
      }
      RETURN_IF_ERROR(Bytes32(b.getFingerprintBefore(), "stepReceipt.fingerprintBefore"));
      RETURN_IF_ERROR(Bytes32(b.getFingerprintAfter(), "stepReceipt.fingerprintAfter"));
      if (!std::isfinite(b.getLoss())) return InvalidArgumentError("stepReceipt.loss is not finite");
      RETURN_IF_ERROR(Bytes32OrEmpty(b.getUpdateHash(), "stepReceipt.updateHash"));
      RETURN_IF_ERROR(Bytes32OrEmpty(b.getStepsHash(), "stepReceipt.stepsHash"));
      RETURN_IF_ERROR(Bytes32OrEmpty(b.getStateHash(), "stepReceipt.stateHash"));
      RETURN_IF_ERROR(Bytes32OrEmpty(b.getOptimizerHash(), "stepReceipt.optimizerHash"));
      RETURN_IF_ERROR(TextLimit(b.getProfile(), "stepReceipt.profile"));
      RETURN_IF_ERROR(ListLimit(b.getMembers(), "stepReceipt.members"));
      if (b.getMembers().size() > 0 && b.getRank() >= b.getMembers().size()) {
        return InvalidArgumentError("stepReceipt.rank is not below the number of members");
      }
      return OkStatus();
    }
    case Body::CHECKPOINT_COMMITTED: {
      auto b = body.getCheckpointCommitted();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "checkpointCommitted.jobId"));
      RETURN_IF_ERROR(Bytes32(b.getBlobHash(), "checkpointCommitted.blobHash"));
      return Bytes32(b.getFingerprint(), "checkpointCommitted.fingerprint");
    }
    case Body::MODEL_REGISTERED: {
      auto b = body.getModelRegistered();
      RETURN_IF_ERROR(NonEmpty(b.getName(), "modelRegistered.name"));
      RETURN_IF_ERROR(Bytes32(b.getModelHash(), "modelRegistered.modelHash"));
      RETURN_IF_ERROR(Bytes32OrEmpty(b.getParentModel(), "modelRegistered.parentModel"));
      RETURN_IF_ERROR(Bytes32OrEmpty(b.getAuthor(), "modelRegistered.author"));
      RETURN_IF_ERROR(TextLimit(b.getJobId(), "modelRegistered.jobId"));
      RETURN_IF_ERROR(KeyList(b.getDatasets(), "modelRegistered.datasets"));
      RETURN_IF_ERROR(NonEmpty(b.getLicense(), "modelRegistered.license"));
      auto shares = b.getShares();
      RETURN_IF_ERROR(ListLimit(shares, "modelRegistered.shares"));
      uint64_t total = 0;
      for (unsigned i = 0; i < shares.size(); ++i) {
        RETURN_IF_ERROR(Bytes32(shares[i].getAccount(), "modelRegistered.shares[" + std::to_string(i) + "].account"));
        total += shares[i].getBasisPoints();
      }
      if (shares.size() > 0 && total != 10000) {
        return InvalidArgumentError("modelRegistered.shares sum to " + std::to_string(total) +
                                    " basis points, not 10000");
      }
      return OkStatus();
    }
    case Body::INFERENCE_USAGE: {
      auto b = body.getInferenceUsage();
      RETURN_IF_ERROR(Bytes32(b.getModel(), "inferenceUsage.model"));
      RETURN_IF_ERROR(Bytes32(b.getConsumer(), "inferenceUsage.consumer"));
      RETURN_IF_ERROR(Bytes32(b.getWorker(), "inferenceUsage.worker"));
      if (b.getWindowEndUnixMillis() < b.getWindowStartUnixMillis()) {
        return InvalidArgumentError("inferenceUsage window ends before it starts");
      }
      if (b.getWorkerMicros() > b.getChargeMicros()) {
        return InvalidArgumentError("inferenceUsage.workerMicros exceeds chargeMicros");
      }
      return OkStatus();
    }
    case Body::SETTLEMENT: {
      auto b = body.getSettlement();
      RETURN_IF_ERROR(Bytes32(b.getAccount(), "settlement.account"));
      if (b.getAmountMicros() == 0) return InvalidArgumentError("settlement.amountMicros is zero");
      return TextLimit(b.getReference(), "settlement.reference");
    }
    case Body::RECEIPT_ACCEPTED: {
      auto b = body.getReceiptAccepted();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "receiptAccepted.jobId"));
      return Bytes32(b.getWorker(), "receiptAccepted.worker");
    }
    case Body::JOB_TOPPED_UP: {
      auto b = body.getJobToppedUp();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "jobToppedUp.jobId"));
      if (b.getAmountMicros() == 0) return InvalidArgumentError("jobToppedUp.amountMicros is zero");
      return OkStatus();
    }
    case Body::JOB_CLOSED: {
      auto b = body.getJobClosed();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "jobClosed.jobId"));
      const std::string outcome = b.getOutcome().cStr();
      if (outcome != "succeeded" && outcome != "failed" && outcome != "cancelled" && outcome != "budget exhausted") {
        return InvalidArgumentError("jobClosed.outcome must be succeeded, failed, cancelled or budget exhausted, got '" +
                                    outcome.substr(0, 64) + "'");
      }
      return OkStatus();
    }
    case Body::ROUND_AUDITED: {
      auto b = body.getRoundAudited();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "roundAudited.jobId"));
      auto rows = b.getRows();
      RETURN_IF_ERROR(ListLimit(rows, "roundAudited.rows"));
      if (rows.size() == 0) return InvalidArgumentError("roundAudited.rows is empty");
      for (unsigned i = 0; i < rows.size(); ++i) {
        const std::string at = "roundAudited.rows[" + std::to_string(i) + "]";
        RETURN_IF_ERROR(Bytes32(rows[i].getWorker(), at + ".worker"));
        RETURN_IF_ERROR(TextLimit(rows[i].getNote(), at + ".note"));
      }
      return OkStatus();
    }
    case Body::VERIFIER_ASSIGNED: {
      auto b = body.getVerifierAssigned();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "verifierAssigned.jobId"));
      RETURN_IF_ERROR(Bytes32(b.getWorker(), "verifierAssigned.worker"));
      RETURN_IF_ERROR(Bytes32(b.getVerifier(), "verifierAssigned.verifier"));
      if (b.getWorker() == b.getVerifier()) return InvalidArgumentError("verifierAssigned names the worker as its own verifier");
      return NonEmpty(b.getTask(), "verifierAssigned.task");
    }
    case Body::VERDICT: {
      auto b = body.getVerdict();
      RETURN_IF_ERROR(NonEmpty(b.getJobId(), "verdict.jobId"));
      RETURN_IF_ERROR(Bytes32(b.getWorker(), "verdict.worker"));
      const std::string result = b.getResult().cStr();
      if (result != "pass" && result != "fail" && result != "not comparable") {
        return InvalidArgumentError("verdict.result must be pass, fail or not comparable, got '" + result.substr(0, 64) + "'");
      }
      if (b.getReplayEndUnixMillis() < b.getReplayStartUnixMillis()) {
        return InvalidArgumentError("verdict's replay ends before it starts");
      }
      RETURN_IF_ERROR(TextLimit(b.getReason(), "verdict.reason"));
      return TextLimit(b.getProfile(), "verdict.profile");
    }
  }
  return InvalidArgumentError("unknown entry type " + std::to_string(static_cast<int>(body.which())));
}

capnp::ReaderOptions Options(size_t words) {
  capnp::ReaderOptions o;
  o.traversalLimitInWords = std::max<uint64_t>(64, words * 4);
  o.nestingLimit = 16;
  return o;
}

}  // namespace

std::string EntryTypeName(EntryType type) {
  switch (type) {
    case Body::TEST: return "test";
    case Body::ACCOUNT_CREDITED: return "accountCredited";
    case Body::DATASET_REGISTERED: return "datasetRegistered";
    case Body::JOB_SUBMITTED: return "jobSubmitted";
    case Body::JOB_PLACED: return "jobPlaced";
    case Body::STEP_RECEIPT: return "stepReceipt";
    case Body::CHECKPOINT_COMMITTED: return "checkpointCommitted";
    case Body::MODEL_REGISTERED: return "modelRegistered";
    case Body::INFERENCE_USAGE: return "inferenceUsage";
    case Body::SETTLEMENT: return "settlement";
    case Body::RECEIPT_ACCEPTED: return "receiptAccepted";
    case Body::JOB_TOPPED_UP: return "jobToppedUp";
    case Body::JOB_CLOSED: return "jobClosed";
    case Body::ROUND_AUDITED: return "roundAudited";
    case Body::VERIFIER_ASSIGNED: return "verifierAssigned";
    case Body::VERDICT: return "verdict";
  }
  return "unknown(" + std::to_string(static_cast<int>(type)) + ")";
}

StatusOr<EntryReader> EntryReader::Open(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % 8 != 0) {
    return InvalidArgumentError("entry size " + std::to_string(bytes.size()) + " is not a positive multiple of 8");
  }
  EntryReader r;
  auto words = std::make_shared<std::vector<uint64_t>>(bytes.size() / 8);
  std::memcpy(words->data(), bytes.data(), bytes.size());
  r.words_ = words;
  kj::ArrayPtr<const capnp::word> segment(reinterpret_cast<const capnp::word*>(words->data()), words->size());
  try {
    auto segments = std::make_shared<kj::ArrayPtr<const capnp::word>>(segment);
    struct Holder : capnp::SegmentArrayMessageReader {
      Holder(std::shared_ptr<kj::ArrayPtr<const capnp::word>> s, capnp::ReaderOptions o)
          : capnp::SegmentArrayMessageReader(kj::arrayPtr(s.get(), 1), o), seg(std::move(s)) {}
      std::shared_ptr<kj::ArrayPtr<const capnp::word>> seg;
    };
    r.reader_ = std::make_shared<Holder>(segments, Options(words->size()));
  } catch (const kj::Exception& e) {
    return InvalidArgumentError(std::string("malformed entry: ") + e.getDescription().cStr());
  }
  return r;
}

schema::LedgerEntry::Reader EntryReader::root() const { return reader_->getRoot<schema::LedgerEntry>(); }

std::string EntrySigningBytes(schema::LedgerEntry::Reader entry) {
  capnp::MallocMessageBuilder b;
  b.setRoot(entry);
  auto root = b.getRoot<schema::LedgerEntry>();
  if (root.hasSignature()) root.disownSignature();
  kj::Array<capnp::word> canonical = capnp::canonicalize(root.asReader());
  std::string out = kEntrySigningPrefix;
  out.append(reinterpret_cast<const char*>(canonical.begin()), canonical.size() * sizeof(capnp::word));
  return out;
}

StatusOr<EntryHeader> ValidateEntry(std::string_view bytes) {
  if (bytes.size() > kMaxEntryBytes) {
    return OutOfRangeError("entry of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                           std::to_string(kMaxEntryBytes));
  }
  ASSIGN_OR_RETURN(EntryReader reader, EntryReader::Open(bytes));
  EntryHeader header;
  std::string signing;
  std::string signature;
  try {
    auto root = reader.root();
    if (root.getVersion() != kEntryVersion) {
      return InvalidArgumentError("entry version " + std::to_string(root.getVersion()) + " is not supported (want " +
                                  std::to_string(kEntryVersion) + ")");
    }
    auto body = root.getBody();
    RETURN_IF_ERROR(ValidateBody(body).WithContext(EntryTypeName(body.which())));
    RETURN_IF_ERROR(Bytes32(root.getActor(), "actor"));
    if (root.getSignature().size() != kEd25519SignatureSize) {
      return InvalidArgumentError("signature must be 64 bytes, got " + std::to_string(root.getSignature().size()));
    }
    // Checked last: a message with unknown fields or pointers elsewhere is
    // not canonical, and canonical form is what makes the hash unique.
    header.type = body.which();
    header.timestamp_unix_millis = root.getTimestampUnixMillis();
    header.actor = FromData(root.getActor());
    signature = FromData(root.getSignature());
    kj::Array<capnp::word> canonical = capnp::canonicalize(root);
    if (canonical.size() * sizeof(capnp::word) != bytes.size() ||
        std::memcmp(canonical.begin(), bytes.data(), bytes.size()) != 0) {
      return InvalidArgumentError("entry is not in canonical Cap'n Proto encoding");
    }
    signing = EntrySigningBytes(root);
  } catch (const kj::Exception& e) {
    return InvalidArgumentError(std::string("malformed entry: ") + e.getDescription().cStr());
  }
  Status sig = Ed25519Verify(header.actor, signing, signature);
  if (!sig.ok()) return Status(sig.code(), EntryTypeName(header.type) + " entry: " + sig.message());
  return header;
}

StatusOr<std::string> MakeEntry(const Ed25519PrivateKey& actor, int64_t timestamp_unix_millis,
                                const BodyFiller& fill) {
  capnp::MallocMessageBuilder b;
  auto root = b.initRoot<schema::LedgerEntry>();
  root.setVersion(kEntryVersion);
  root.setTimestampUnixMillis(timestamp_unix_millis);
  root.setActor(AsData(actor.public_key().bytes()));
  fill(root.initBody());
  ASSIGN_OR_RETURN(std::string signature, actor.Sign(EntrySigningBytes(root.asReader())));
  root.setSignature(AsData(signature));
  kj::Array<capnp::word> canonical = capnp::canonicalize(root.asReader());
  std::string bytes(reinterpret_cast<const char*>(canonical.begin()), canonical.size() * sizeof(capnp::word));
  RETURN_IF_ERROR(ValidateEntry(bytes).status().WithContext("built entry is invalid"));
  return bytes;
}

}  // namespace cairn::ledger
