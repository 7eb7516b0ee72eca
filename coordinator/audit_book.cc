#include "coordinator/audit_book.h"

#include "ledger/entry.h"
#include "runtime/base/encoding.h"

namespace cairn::coordinator {

void AuditBook::Apply(uint64_t index, std::string_view entry) {
  auto reader = ledger::EntryReader::Open(entry);
  if (!reader.ok()) return;
  auto root = reader->root();
  const std::string actor = ledger::FromData(root.getActor());
  const int64_t ts = root.getTimestampUnixMillis();
  auto body = root.getBody();
  using B = ledger::schema::LedgerEntry::Body;
  MutexLock lock(&mu_);
  switch (body.which()) {
    case B::JOB_SUBMITTED:
      submitted_.emplace(body.getJobSubmitted().getJobId().cStr(), index);
      break;
    case B::JOB_PLACED: {
      auto p = body.getJobPlaced();
      const std::string job = p.getJobId().cStr();
      world_.emplace(std::make_pair(job, p.getAttempt()), p.getWorkers().size());  // the first placement of the attempt
      for (auto w : p.getWorkers()) placed_.emplace(Seat{job, p.getAttempt(), ledger::FromData(w.getWorker())}, std::make_pair(index, ts));
      break;
    }
    case B::STEP_RECEIPT: {
      auto r = body.getStepReceipt();
      const std::string job = r.getJobId().cStr();
      ReceiptFacts f;
      f.index = index;
      f.start_ms = r.getStartUnixMillis();
      f.end_ms = r.getEndUnixMillis();
      f.steps = r.getSteps();
      f.rank = r.getRank();
      f.chain_every = r.getChainEvery();
      for (auto m : r.getMembers()) f.members.push_back(m);
      f.fp_before = ledger::FromData(r.getFingerprintBefore());
      f.fp_after = ledger::FromData(r.getFingerprintAfter());
      f.update_hash = ledger::FromData(r.getUpdateHash());
      f.state_hash = ledger::FromData(r.getStateHash());
      f.steps_hash = ledger::FromData(r.getStepsHash());
      f.optimizer_hash = ledger::FromData(r.getOptimizerHash());
      f.profile = r.getProfile().cStr();
      for (auto c : r.getConsumed()) f.chunks.push_back(c.getChunk());
      const Seat seat{job, r.getAttempt(), actor};
      const int64_t uid = f.rank < f.members.size() ? static_cast<int64_t>(f.members[f.rank]) : -1;
      auto last = last_receipt_.find(seat);
      if (last != last_receipt_.end() && last->second.round + 1 == r.getRound() && last->second.uid == uid) {
        f.previous_index = last->second.index;
        f.previous_end_ms = last->second.end_ms;
      }
      auto placed = placed_.find(seat);
      if (placed != placed_.end()) std::tie(f.window_index, f.window_ms) = placed->second;
      last_receipt_[seat] = Last{r.getRound(), index, f.end_ms, uid};
      if (!f.update_hash.empty()) updates_[job].emplace(f.update_hash, Update{r.getAttempt(), r.getRound(), actor});
      rounds_[RoundKey{job, r.getAttempt(), r.getRound()}][actor] = std::move(f);
      break;
    }
    case B::RECEIPT_ACCEPTED: {
      auto a = body.getReceiptAccepted();
      const std::string job = a.getJobId().cStr();
      const std::string worker = ledger::FromData(a.getWorker());
      auto round = rounds_.find(RoundKey{job, a.getAttempt(), a.getRound()});
      if (round != rounds_.end()) {
        auto f = round->second.find(worker);
        if (f != round->second.end()) {
          f->second.accepted_index = index;
          f->second.accepted_ms = ts;
        }
      }
      break;
    }
    default:
      break;
  }
}

std::map<std::string, ReceiptFacts> AuditBook::Round(const std::string& job, uint32_t attempt, uint64_t round) const {
  MutexLock lock(&mu_);
  auto it = rounds_.find(RoundKey{job, attempt, round});
  return it == rounds_.end() ? std::map<std::string, ReceiptFacts>{} : it->second;
}

std::optional<ReceiptFacts> AuditBook::Receipt(const std::string& job, uint32_t attempt, uint64_t round,
                                               const std::string& worker) const {
  MutexLock lock(&mu_);
  auto it = rounds_.find(RoundKey{job, attempt, round});
  if (it == rounds_.end()) return std::nullopt;
  auto f = it->second.find(worker);
  if (f == it->second.end()) return std::nullopt;
  return f->second;
}

uint64_t AuditBook::LatestRound(const std::string& job, uint32_t attempt, const std::string& worker) const {
  MutexLock lock(&mu_);
  auto it = last_receipt_.find(Seat{job, attempt, worker});
  return it == last_receipt_.end() ? 0 : it->second.round;
}

std::optional<uint64_t> AuditBook::Submitted(const std::string& job) const {
  MutexLock lock(&mu_);
  auto it = submitted_.find(job);
  if (it == submitted_.end()) return std::nullopt;
  return it->second;
}

uint32_t AuditBook::PlacedWorld(const std::string& job, uint32_t attempt) const {
  MutexLock lock(&mu_);
  auto it = world_.find({job, attempt});
  return it == world_.end() ? 0 : it->second;
}

std::map<std::string, std::string> AuditBook::EarlierUpdates(const std::string& job, uint32_t attempt, uint64_t round) const {
  MutexLock lock(&mu_);
  std::map<std::string, std::string> out;
  auto it = updates_.find(job);
  if (it == updates_.end()) return out;
  for (const auto& [hash, u] : it->second) {
    // An attempt that redoes a round from the same state may send the same
    // update again, honestly: across attempts only another round counts.
    const bool earlier = std::make_pair(u.attempt, u.round) < std::make_pair(attempt, round);
    if (earlier && (u.attempt == attempt || u.round != round)) {
      out[hash] = "round " + std::to_string(u.round) + " by " + HexEncode(u.worker.substr(0, 4));
    }
  }
  return out;
}

}  // namespace cairn::coordinator
