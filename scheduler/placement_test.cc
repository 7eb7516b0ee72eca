#include "scheduler/placement.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace cairn::scheduler {
namespace {

WorkerState W(const std::string& id, double tflops, uint32_t slots = 1, const std::string& region = "eu",
              const std::string& domain = "", Device device = Device::kCpu, uint64_t mem_gb = 16,
              uint64_t price = 1'000'000) {
  WorkerState w;
  w.id = id;
  w.region = region;
  w.failure_domain = domain;
  w.device = device;
  w.gpus = device == Device::kCuda ? 1 : 0;
  w.memory_bytes = mem_gb << 30;
  w.free_slots = slots;
  w.tflops = tflops;
  w.price_per_hour_micros = price;
  return w;
}

JobDemand J(const std::string& id, uint32_t workers, Device device = Device::kCpu) {
  JobDemand j;
  j.id = id;
  j.workers = workers;
  j.device = device;
  return j;
}

TEST(Placement, GangAllOrNothing) {
  Placer p({W("a", 1), W("b", 2), W("c", 3)});
  auto too_big = p.Place(J("big", 4));
  ASSERT_EQ(too_big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(too_big.status().message().find("needs 4 cpu workers; 3 with a free slot"), std::string::npos)
      << too_big.status();
  EXPECT_EQ(p.FreeSlots("a"), 1u);  // nothing consumed by the failure
  auto fits = p.Place(J("fits", 3));
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(*fits, (std::vector<std::string>{"c", "b", "a"}));  // best score first
  EXPECT_FALSE(p.Place(J("more", 1)).ok());                     // never more than advertised
  EXPECT_EQ(p.Place(J("zero", 0)).status().code(), StatusCode::kInvalidArgument);
}

TEST(Placement, FiltersDeviceMemoryRegionAndPrice) {
  Placer p({W("cpu-eu", 5), W("gpu-eu-small", 50, 1, "eu", "", Device::kCuda, 8),
            W("gpu-us-big", 60, 1, "us", "", Device::kCuda, 80), W("gpu-eu-big", 40, 1, "eu", "", Device::kCuda, 80),
            W("gpu-eu-pricey", 100, 1, "eu", "", Device::kCuda, 80, 9'000'000)});
  JobDemand j = J("train", 1, Device::kCuda);
  j.min_memory_bytes = 40ull << 30;
  j.regions = {"eu"};
  j.max_price_per_hour_micros = 2'000'000;
  EXPECT_EQ(p.Place(j).value(), std::vector<std::string>{"gpu-eu-big"});
  j.id = "again";
  EXPECT_EQ(p.Place(j).status().code(), StatusCode::kResourceExhausted);
  j.regions = {"us", "eu"};
  EXPECT_EQ(p.Place(j).value(), std::vector<std::string>{"gpu-us-big"});
}

TEST(Placement, MultiGpuJobsNeedWorkersWithThatManyGpus) {
  WorkerState four = W("gpu-4x", 10, 1, "eu", "", Device::kCuda, 80);
  four.gpus = 4;
  Placer p({W("gpu-1x-fast", 90, 1, "eu", "", Device::kCuda, 80), four, W("cpu", 99)});
  JobDemand j = J("ddp-4", 1, Device::kCuda);
  j.gpus = 4;
  EXPECT_EQ(p.Place(j).value(), std::vector<std::string>{"gpu-4x"});  // the faster 1-GPU worker does not fit
  j.id = "ddp-4-again";
  EXPECT_EQ(p.Place(j).status().code(), StatusCode::kResourceExhausted);
  j.gpus = 1;
  EXPECT_EQ(p.Place(j).value(), std::vector<std::string>{"gpu-1x-fast"});
}

TEST(Placement, ScoreIsSpeedPerPriceWeightedByReputation) {
  WorkerState cheap = W("cheap", 10, 1, "eu", "", Device::kCpu, 16, 1'000'000);   // 10 per credit
  WorkerState fast = W("fast", 30, 1, "eu", "", Device::kCpu, 16, 6'000'000);     // 5 per credit
  WorkerState shady = W("shady", 40, 1, "eu", "", Device::kCpu, 16, 1'000'000);   // 40, reputation 0 -> 20
  shady.reputation = 0;
  EXPECT_GT(WorkerScore(shady), WorkerScore(cheap));
  EXPECT_GT(WorkerScore(cheap), WorkerScore(fast));
  Placer p({cheap, fast, shady});
  EXPECT_EQ(p.Place(J("j", 3)).value(), (std::vector<std::string>{"shady", "cheap", "fast"}));
}

TEST(Placement, SpreadsAcrossFailureDomainsFirst) {
  Placer p({W("a1", 10, 1, "eu", "host-a"), W("a2", 9, 1, "eu", "host-a"), W("b1", 5, 1, "eu", "host-b"),
            W("b2", 4, 1, "eu", "host-b")});
  EXPECT_EQ(p.Place(J("two", 2)).value(), (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(p.Place(J("two-more", 2)).value(), (std::vector<std::string>{"a2", "b2"}));
  Placer q({W("a1", 10, 1, "eu", "host-a"), W("a2", 9, 1, "eu", "host-a"), W("b1", 5, 1, "eu", "host-b")});
  // Three workers from two domains: the domain is reused only when it must be.
  EXPECT_EQ(q.Place(J("three", 3)).value(), (std::vector<std::string>{"a1", "b1", "a2"}));
}

TEST(Placement, PriorityOrderWithBackfill) {
  Placer p({W("a", 3, 2), W("b", 2, 1)});
  std::vector<JobDemand> queue = {J("low", 1), J("huge", 5), J("high", 2), J("late-low", 1)};
  queue[0].sequence = 1;
  queue[1].priority = 10;
  queue[1].sequence = 2;
  queue[2].priority = 5;
  queue[2].sequence = 3;
  queue[3].sequence = 4;
  auto placed = p.PlaceAll(queue);
  ASSERT_EQ(placed.size(), 2u);  // huge cannot fit and does not block; late-low finds no slot left
  EXPECT_EQ(placed[0].job_id, "high");
  EXPECT_EQ(placed[1].job_id, "low");
}

// Random snapshots and queues: no worker exceeds its slots, every placed job
// gets distinct workers that pass its filters, and the result is the same
// when the workers come in a different order.
TEST(Placement, RandomQueuesRespectSlotsAndFiltersDeterministically) {
  for (int seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<WorkerState> workers;
    for (int i = 0; i < 200; ++i) {
      workers.push_back(W("w" + std::to_string(i), 1 + rng() % 100, 1 + rng() % 4, rng() % 2 ? "eu" : "us",
                          "d" + std::to_string(rng() % 30), rng() % 4 == 0 ? Device::kCuda : Device::kCpu,
                          8 + rng() % 72, 100'000 + rng() % 5'000'000));
    }
    std::vector<JobDemand> jobs;
    for (int i = 0; i < 300; ++i) {
      JobDemand j = J("j" + std::to_string(i), 1 + rng() % 8, rng() % 4 == 0 ? Device::kCuda : Device::kCpu);
      j.priority = static_cast<int32_t>(rng() % 3);
      j.sequence = static_cast<uint64_t>(i);
      j.min_memory_bytes = (rng() % 64) << 30;
      if (rng() % 3 == 0) j.regions = {"eu"};
      jobs.push_back(j);
    }
    Placer p(workers);
    auto placed = p.PlaceAll(jobs);
    std::map<std::string, WorkerState> by_id;
    for (const auto& w : workers) by_id[w.id] = w;
    std::map<std::string, JobDemand> job_by_id;
    for (const auto& j : jobs) job_by_id[j.id] = j;
    std::map<std::string, uint32_t> used;
    for (const auto& a : placed) {
      const JobDemand& j = job_by_id[a.job_id];
      ASSERT_EQ(a.workers.size(), j.workers);
      std::set<std::string> distinct(a.workers.begin(), a.workers.end());
      ASSERT_EQ(distinct.size(), a.workers.size());
      for (const auto& id : a.workers) {
        const WorkerState& w = by_id[id];
        ASSERT_EQ(w.device, j.device);
        ASSERT_GE(w.memory_bytes, j.min_memory_bytes);
        if (!j.regions.empty()) {
          ASSERT_EQ(w.region, j.regions[0]);
        }
        ++used[id];
      }
    }
    for (const auto& [id, n] : used) ASSERT_LE(n, by_id[id].free_slots) << id;
    ASSERT_GT(placed.size(), 10u);
    std::shuffle(workers.begin(), workers.end(), rng);
    Placer again(workers);
    auto placed2 = again.PlaceAll(jobs);
    ASSERT_EQ(placed2.size(), placed.size());
    for (size_t i = 0; i < placed.size(); ++i) ASSERT_EQ(placed2[i].workers, placed[i].workers);
  }
}

}  // namespace
}  // namespace cairn::scheduler
