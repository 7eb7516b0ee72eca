// Placement: which workers run which job. A pure function over a snapshot
// of workers and a queue of job demands — no clock, no sockets — so it can
// be tested exactly and benchmarked on its own.
//
// Rules:
//  - Gang placement: a job gets all the workers it asks for, or none.
//  - Filters: device kind, memory, region (a job's list, or any), price cap,
//    a free task slot (a worker never runs more than it advertised), the
//    job's excluded workers (removed by a failing verdict; a replay's own
//    worker), and for verification tasks the determinism profile they
//    replay on. Verify-only workers take nothing else.
//  - Score (higher first): measured speed per price, weighted by reputation:
//      score = tflops / max(price_per_hour, 1 credit) * (0.5 + 0.5 * reputation)
//    ties broken by worker id, so the result is deterministic.
//  - Spread: a job's workers come from distinct failure domains while any
//    are left; only then does it reuse a domain.
//  - Queue order: priority (higher first), then submission sequence;
//    smaller jobs behind a job that does not fit are still placed (backfill).
//
// Workers are indexed per (device, region) in score order, so one decision
// reads only as many candidates as it needs in the common case.
// Thread safety: a Placer is used by one thread.
#ifndef CAIRN_SCHEDULER_PLACEMENT_H_
#define CAIRN_SCHEDULER_PLACEMENT_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "jobspec/job_spec.h"
#include "runtime/base/statusor.h"

namespace cairn::scheduler {

using jobspec::Device;
using jobspec::JobKind;
using jobspec::JobSpec;
using jobspec::Strategy;
using jobspec::JobKindName;
using jobspec::ParseJobSpec;
using jobspec::StrategyName;

struct WorkerState {
  std::string id;              // identity key id
  std::string region;
  std::string failure_domain;  // host, owner, ...; empty: the worker alone
  Device device = Device::kCpu;
  uint32_t gpus = 0;           // CUDA devices it reported
  uint64_t memory_bytes = 0;
  uint32_t free_slots = 0;
  double tflops = 0;
  uint64_t price_per_hour_micros = 0;
  double reputation = 1.0;  // 0..1
  std::string profile;      // determinism profile (train/profile.h)
  bool verify_only = false; // a dedicated verifier
};

struct JobDemand {
  std::string id;
  int32_t priority = 0;
  uint64_t sequence = 0;  // submission order
  uint32_t workers = 1;
  Device device = Device::kCpu;
  uint32_t gpus = 0;                       // cuda: GPUs each worker must have (resources.gpus)
  uint64_t min_memory_bytes = 0;
  std::vector<std::string> regions;        // empty: any region
  uint64_t max_price_per_hour_micros = 0;  // 0: no cap
  bool verify = false;                     // a verification task
  std::string profile;                     // verify: the profile it must run on
  std::set<std::string> exclude;           // workers it may not use
};

// The scheduler's view of a job spec.
JobDemand DemandOf(const JobSpec& spec, const std::string& job_id, uint64_t sequence);

struct Assignment {
  std::string job_id;
  std::vector<std::string> workers;  // rank = position
};

double WorkerScore(const WorkerState& w);

class Placer {
 public:
  explicit Placer(std::vector<WorkerState> workers);

  // Places one job, consuming one slot on each chosen worker. On failure
  // nothing is consumed: InvalidArgument for an impossible demand (0
  // workers), ResourceExhausted naming how many fitting workers exist.
  StatusOr<std::vector<std::string>> Place(const JobDemand& job);
  // Places the queue in priority order; returns the jobs that were placed.
  std::vector<Assignment> PlaceAll(std::vector<JobDemand> queue);

  uint32_t FreeSlots(const std::string& worker_id) const;

 private:
  struct Key {
    double score;
    size_t index;
    bool operator<(const Key& o) const;
  };
  using Bucket = std::set<Key>;
  bool Fits(const WorkerState& w, const JobDemand& job) const;

  std::vector<WorkerState> workers_;
  std::map<std::string, size_t> index_by_id_;
  std::map<std::pair<Device, std::string>, Bucket> buckets_;  // (device, region) -> workers with free slots
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_PLACEMENT_H_
