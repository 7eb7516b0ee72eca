#include "scheduler/placement.h"

#include <algorithm>
#include <queue>
#include <unordered_set>

namespace cairn::scheduler {

double WorkerScore(const WorkerState& w) {
  double price_credits = std::max<double>(1.0, static_cast<double>(w.price_per_hour_micros) / 1e6);
  double reputation = std::clamp(w.reputation, 0.0, 1.0);
  return std::max(0.0, w.tflops) / price_credits * (0.5 + 0.5 * reputation);
}

bool Placer::Key::operator<(const Key& o) const {
  if (score != o.score) return score > o.score;  // best first
  return index < o.index;                        // indices follow id order (see constructor)
}

Placer::Placer(std::vector<WorkerState> workers) : workers_(std::move(workers)) {
  // Sort by id so that index order is id order: ties break by id.
  std::sort(workers_.begin(), workers_.end(), [](const WorkerState& a, const WorkerState& b) { return a.id < b.id; });
  for (size_t i = 0; i < workers_.size(); ++i) {
    index_by_id_[workers_[i].id] = i;
    if (workers_[i].free_slots > 0) {
      buckets_[{workers_[i].device, workers_[i].region}].insert(Key{WorkerScore(workers_[i]), i});
    }
  }
}

uint32_t Placer::FreeSlots(const std::string& worker_id) const {
  auto it = index_by_id_.find(worker_id);
  return it == index_by_id_.end() ? 0 : workers_[it->second].free_slots;
}

bool Placer::Fits(const WorkerState& w, const JobDemand& job) const {
  if (w.memory_bytes < job.min_memory_bytes) return false;
  if (w.gpus < job.gpus) return false;
  if (w.verify_only && !job.verify) return false;
  if (job.verify && w.profile != job.profile) return false;
  if (job.exclude.count(w.id)) return false;
  if (job.max_price_per_hour_micros != 0 && w.price_per_hour_micros > job.max_price_per_hour_micros) return false;
  return true;
}

StatusOr<std::vector<std::string>> Placer::Place(const JobDemand& job) {
  if (job.workers == 0) return InvalidArgumentError("job " + job.id + " asks for 0 workers");
  // The buckets this job may use.
  std::vector<Bucket*> buckets;
  if (job.regions.empty()) {
    for (auto it = buckets_.lower_bound({job.device, ""}); it != buckets_.end() && it->first.first == job.device; ++it) {
      buckets.push_back(&it->second);
    }
  } else {
    for (const std::string& r : job.regions) {
      auto it = buckets_.find({job.device, r});
      if (it != buckets_.end()) buckets.push_back(&it->second);
    }
  }
  // k-way merge of the buckets in score order.
  using Cursor = std::pair<Bucket::iterator, Bucket*>;
  auto worse = [](const Cursor& a, const Cursor& b) { return *b.first < *a.first; };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(worse)> heap(worse);
  for (Bucket* b : buckets) {
    if (!b->empty()) heap.push({b->begin(), b});
  }
  std::vector<size_t> chosen, fallback;
  std::unordered_set<std::string> domains;
  size_t fitting = 0;
  // Spreading is best effort within a scan budget: once enough fitting
  // workers are in hand, stop looking for new domains after this many.
  const size_t budget = 64 + 8 * static_cast<size_t>(job.workers);
  while (!heap.empty() && chosen.size() < job.workers &&
         !(chosen.size() + fallback.size() >= job.workers && fitting >= budget)) {
    Cursor c = heap.top();
    heap.pop();
    size_t i = c.first->index;
    if (std::next(c.first) != c.second->end()) heap.push({std::next(c.first), c.second});
    const WorkerState& w = workers_[i];
    if (!Fits(w, job)) continue;
    ++fitting;
    const std::string& domain = w.failure_domain.empty() ? w.id : w.failure_domain;
    if (domains.insert(domain).second) {
      chosen.push_back(i);
    } else {
      fallback.push_back(i);
    }
  }
  // Not enough distinct domains: reuse some, best first.
  for (size_t k = 0; k < fallback.size() && chosen.size() < job.workers; ++k) chosen.push_back(fallback[k]);
  if (chosen.size() < job.workers) {
    return ResourceExhaustedError("job " + job.id + " needs " + std::to_string(job.workers) + " " +
                                  (job.device == Device::kCuda ? "cuda" : "cpu") + " workers; " +
                                  std::to_string(fitting) + " with a free slot fit its filters");
  }
  std::vector<std::string> out;
  for (size_t i : chosen) {
    WorkerState& w = workers_[i];
    out.push_back(w.id);
    if (--w.free_slots == 0) buckets_[{w.device, w.region}].erase(Key{WorkerScore(w), i});
  }
  return out;
}

std::vector<Assignment> Placer::PlaceAll(std::vector<JobDemand> queue) {
  std::stable_sort(queue.begin(), queue.end(), [](const JobDemand& a, const JobDemand& b) {
    if (a.priority != b.priority) return a.priority > b.priority;
    return a.sequence < b.sequence;
  });
  std::vector<Assignment> placed;
  for (const JobDemand& job : queue) {
    auto workers = Place(job);
    if (workers.ok()) placed.push_back(Assignment{job.id, std::move(workers).value()});
  }
  return placed;
}

JobDemand DemandOf(const JobSpec& spec, const std::string& job_id, uint64_t sequence) {
  JobDemand d;
  d.id = job_id;
  d.priority = spec.priority;
  d.sequence = sequence;
  d.workers = spec.workers;
  d.device = spec.device;
  d.gpus = spec.device == Device::kCuda ? spec.gpus : 0;
  d.min_memory_bytes = spec.min_memory_bytes;
  d.regions = spec.regions;
  d.max_price_per_hour_micros = spec.max_price_per_hour_micros;
  d.verify = spec.kind == JobKind::kVerify;
  d.profile = spec.target.profile;
  return d;
}

}  // namespace cairn::scheduler
