#include "worker/task_runner.h"

#include <cstdio>

#include "worker/matmul_bench.h"
#include "worker/serve_task.h"
#include "worker/train_task.h"
#include "worker/verify_task.h"

namespace cairn::worker {
namespace {

StatusOr<std::string> RunBenchmark(const TaskContext& c) {
  c.io.log("rank " + std::to_string(c.task.rank) + "/" + std::to_string(c.task.world_size) + ": matmul benchmark for " +
           std::to_string(c.spec.benchmark_seconds) + " s");
  ASSIGN_OR_RETURN(MatmulResult r, RunMatmul(c.spec.benchmark_seconds, 256, c.env.cuda, &c.cancel, [&](const MatmulResult& p) {
                     char buf[128];
                     std::snprintf(buf, sizeof(buf), "%.1f s: %.2f GFLOP/s", p.seconds, p.tflops * 1000);
                     c.io.log(buf);
                   }));
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%llu multiplies in %.1f s: %.2f GFLOP/s", static_cast<unsigned long long>(r.multiplies),
                r.seconds, r.tflops * 1000);
  return std::string(buf);
}

}  // namespace

StatusOr<std::string> RunTask(const wire::TaskAssign& task, const std::atomic<bool>& cancel, const TaskIo& io,
                              const WorkerEnvironment& env) {
  ASSIGN_OR_RETURN(jobspec::JobSpec spec, jobspec::ParseJobSpec(task.spec, task.job_id));
  const TaskContext context{task, spec, cancel, io, env};
  switch (spec.kind) {
    case jobspec::JobKind::kTrain: return RunTrainTask(context);
    case jobspec::JobKind::kServe: return RunServeTask(context);
    case jobspec::JobKind::kBenchmark: return RunBenchmark(context);
    case jobspec::JobKind::kVerify: return RunVerifyTask(context);
  }
  return InvalidArgumentError("unknown job kind");
}

}  // namespace cairn::worker
