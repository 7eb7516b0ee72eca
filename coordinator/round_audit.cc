#include "coordinator/round_audit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "kernels/quantize_cpu.h"
#include "ledger/verification_rules.h"
#include "train/aggregate.h"

namespace cairn::coordinator {
namespace {

constexpr double kNormRatio = 4.0;
constexpr double kMinCosine = 0.2;

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t j = 0; j < a.size(); ++j) s += static_cast<double>(a[j]) * b[j];
  return s;
}
std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3g", v);
  return buf;
}
void Note(AuditVerdict& v, uint32_t flag, const std::string& what) {
  v.flags |= flag;
  if (v.note.size() < 200) v.note += (v.note.empty() ? "" : "; ") + what;
}

}  // namespace

std::string ConsensusAfter(const std::vector<AuditedReceipt>& receipts) {
  std::map<std::string, size_t> votes;
  for (const auto& r : receipts) ++votes[r.fp_after];
  for (const auto& [fp, n] : votes) {
    if (2 * n > receipts.size()) return fp;
  }
  return "";
}

std::optional<std::vector<float>> UpdateValues(const std::string& bytes, bool int8, std::string* error) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (!int8) {
    if (bytes.size() % 4 != 0 || bytes.empty()) {
      *error = "the update is not a list of f32 values";
      return std::nullopt;
    }
    std::vector<float> out(bytes.size() / 4);
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
  auto layout = kernels::ParseInt8Header(data, bytes.size());
  if (!layout.ok()) {
    *error = std::string(layout.status().message());
    return std::nullopt;
  }
  const auto* scales = reinterpret_cast<const float*>(data + layout->scales_offset);
  std::vector<float> scale_copy(static_cast<size_t>(layout->blocks));
  std::memcpy(scale_copy.data(), scales, scale_copy.size() * 4);  // the header leaves them unaligned
  Status ok = kernels::CheckInt8Scales(scale_copy.data(), layout->blocks);
  if (!ok.ok()) {
    *error = std::string(ok.message());
    return std::nullopt;
  }
  std::vector<float> out(static_cast<size_t>(layout->count), 0.0f);
  Status s = kernels::DequantizeAccumulateCpu(scale_copy.data(), reinterpret_cast<const int8_t*>(data + layout->values_offset),
                                              layout->count, layout->block, out.data(), 1);
  if (!s.ok()) {
    *error = std::string(s.message());
    return std::nullopt;
  }
  return out;
}

std::vector<AuditVerdict> AuditRound(const AuditContext& ctx, const std::vector<AuditedReceipt>& receipts) {
  using ledger::AuditFlag;
  std::vector<AuditVerdict> out(receipts.size());
  // The group the receipts agree on.
  std::map<std::vector<uint32_t>, size_t> groups;
  for (const auto& r : receipts) ++groups[r.members];
  std::vector<uint32_t> group;
  size_t best = 0;
  for (const auto& [g, n] : groups) {
    if (n > best) group = g, best = n;
  }
  const std::string consensus = ConsensusAfter(receipts);
  std::map<std::string, size_t> same_update;
  for (const auto& r : receipts) {
    if (!r.update_hash.empty()) ++same_update[r.update_hash];
  }
  for (size_t i = 0; i < receipts.size(); ++i) {
    const AuditedReceipt& r = receipts[i];
    AuditVerdict& v = out[i];
    v.worker = r.worker;
    if (!r.has_commitments) Note(v, ledger::kFlagMissing, "no commitments");
    // Assignment.
    if (r.members != group) Note(v, ledger::kFlagAssignment, "claims another group than the round's");
    if (r.rank >= r.members.size() || (r.uid && r.members[r.rank] != *r.uid)) {
      Note(v, ledger::kFlagAssignment, "rank " + std::to_string(r.rank) + " is not its place in the group");
    }
    if (ctx.shard_by_chunk && !r.members.empty()) {
      for (uint32_t c : r.chunks) {
        if (c < ctx.chunk_base || (c - ctx.chunk_base) % r.members.size() != r.rank) {
          Note(v, ledger::kFlagAssignment, "drew chunk " + std::to_string(c) + ", outside its shard");
          break;
        }
      }
    }
    // State.
    if (!ctx.previous_consensus.empty() && r.fp_before != ctx.previous_consensus) {
      Note(v, ledger::kFlagState, "fingerprintBefore is not the round before's state");
    }
    if (!consensus.empty() && r.fp_after != consensus) Note(v, ledger::kFlagState, "ends on other parameters than the group");
    // Timestamps.
    if (r.start_ms < r.window_ms - kAuditSkewMs || r.end_ms > r.accepted_ms + kAuditSkewMs ||
        (r.previous_end_ms != 0 && r.start_ms < r.previous_end_ms - kAuditSkewMs)) {
      Note(v, ledger::kFlagTimestamps, "claims time outside the window the coordinator saw");
    } else if (r.min_seconds > 0 && static_cast<double>(r.end_ms - r.start_ms) / 1000.0 < r.min_seconds) {
      Note(v, ledger::kFlagTimestamps, "faster than ten times its measured speed allows");
    }
    // Duplicates.
    if (!r.update_hash.empty()) {
      if (same_update[r.update_hash] > 1) Note(v, ledger::kFlagDuplicate, "the same update as another worker's");
      auto earlier = ctx.earlier_updates.find(r.update_hash);
      if (earlier != ctx.earlier_updates.end()) Note(v, ledger::kFlagDuplicate, "the same update as " + earlier->second);
    }
    if (ctx.diloco && !r.update) Note(v, ledger::kFlagMissing, "no update uploaded");
  }
  // Norm and direction against the round's robust centre.
  if (!ctx.diloco) return out;
  std::vector<size_t> with;
  for (size_t i = 0; i < receipts.size(); ++i) {
    if (receipts[i].update && !receipts[i].update->empty() &&
        (with.empty() || receipts[i].update->size() == receipts[with[0]].update->size())) {
      with.push_back(i);
    }
  }
  if (with.size() < 3) return out;
  // Each update against the centre of the others (leave one out): a poisoned
  // update would drag a centre that counted it toward itself.
  const size_t d = receipts[with[0]].update->size();
  std::vector<double> norms;
  for (size_t i : with) norms.push_back(std::sqrt(Dot(*receipts[i].update, *receipts[i].update)));
  std::vector<float> centre(d);
  for (size_t k = 0; k < with.size(); ++k) {
    std::vector<const float*> others;
    std::vector<double> other_norms;
    for (size_t m = 0; m < with.size(); ++m) {
      if (m == k) continue;
      others.push_back(receipts[with[m]].update->data());
      other_norms.push_back(norms[m]);
    }
    train::CoordinateMedian(others, d, centre.data());
    const double centre_norm = std::sqrt(Dot(centre, centre));
    std::sort(other_norms.begin(), other_norms.end());
    const size_t h = other_norms.size() / 2;
    const double median_norm = other_norms.size() % 2 ? other_norms[h] : (other_norms[h - 1] + other_norms[h]) / 2;
    AuditVerdict& v = out[with[k]];
    const double n = norms[k];
    if (median_norm > 0 && (n > kNormRatio * median_norm || n < median_norm / kNormRatio)) {
      Note(v, ledger::kFlagNorm, "norm " + Num(n) + " against the others' median " + Num(median_norm));
    }
    if (n > 0 && centre_norm > 0) {
      const double cosine = Dot(*receipts[with[k]].update, centre) / (n * centre_norm);
      if (cosine < kMinCosine) Note(v, ledger::kFlagDirection, "cosine " + Num(cosine) + " with the others' robust centre");
    }
  }
  return out;
}

}  // namespace cairn::coordinator
