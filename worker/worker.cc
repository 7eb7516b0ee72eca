#include "worker/worker.h"

#include <thread>

#include "runtime/base/files.h"
#include "runtime/base/log.h"
#include "worker/devices.h"
#include "worker/matmul_bench.h"

namespace cairn::worker {

StatusOr<std::unique_ptr<Worker>> Worker::Create(Ed25519PrivateKey identity, WorkerOptions options) {
  if (options.state_dir.empty()) return InvalidArgumentError("a worker needs a state directory (its outbox lives there)");
  if (options.coordinator_key.size() != 32) return InvalidArgumentError("the coordinator's CURVE key must be 32 bytes");
  std::unique_ptr<Worker> w(new Worker());
  w->identity_ = std::move(identity);
  w->id_ = w->identity_.public_key().KeyId();
  RETURN_IF_ERROR(MakeDirs(options.state_dir));
  if (options.cache_dir.empty()) options.cache_dir = options.state_dir + "/cache";
  ASSIGN_OR_RETURN(w->devices_, DetectDevices(options.devices));
  const bool cuda = w->devices_[0].kind == wire::DeviceKind::kCuda;
  if (options.measure_seconds > 0) {
    auto m = RunMatmul(options.measure_seconds, 256, cuda, nullptr);
    if (!m.ok()) return m.status().WithContext("self-measurement");
    // The fastest multiply, not the mean: a worker that starts while its
    // machine is busy still advertises what it can do (cost estimates and
    // placement scores read it).
    w->tflops_ = m->best_tflops;
  }
  ASSIGN_OR_RETURN(w->outbox_, Outbox::Open(options.state_dir + "/outbox.db", options.clock));

  w->env_.identity = &w->identity_;
  w->env_.clock = options.clock;
  w->env_.coordinator_host = options.coordinator_host;
  w->env_.http_port = options.http_port;
  w->env_.cache_dir = options.cache_dir;
  w->env_.threads = options.threads;
  w->env_.cuda = cuda;
  w->env_.http_retry_budget_ms = options.http_retry_budget_ms;

  AgentOptions ao;
  ao.coordinator = "tcp://" + options.coordinator_host + ":" + std::to_string(options.bus_port);
  ao.coordinator_key = options.coordinator_key;
  ao.name = options.name;
  ao.region = options.region;
  ao.price_per_hour_micros = options.price_per_hour_micros;
  ao.max_tasks = options.max_tasks;
  ao.devices = w->devices_;
  ao.measured_tflops = w->tflops_;
  ao.clock = options.clock;
  ao.hello_retry_ms = options.hello_retry_ms;
  ao.resend_ms = options.resend_ms;
  TaskRunner runner = options.runner;
  if (!runner) {
    const WorkerEnvironment* env = &w->env_;
    runner = [env](const wire::TaskAssign& t, const std::atomic<bool>& cancel, const TaskIo& io) {
      return RunTask(t, cancel, io, *env);
    };
  }
  w->options_ = std::move(options);
  w->agent_ = std::make_unique<WorkerAgent>(w->identity_, std::move(ao), w->outbox_.get(), std::move(runner));
  return w;
}

Worker::~Worker() = default;

void Worker::UploadLoop(const std::atomic<bool>& stop) {
  CoordinatorHttp http(env_.Http());
  int64_t backoff_ms = 200;
  while (!stop) {
    auto up = outbox_->NextUpload();
    if (!up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // idle: look again soon
      continue;
    }
    Status s = http.PutBlob(up->blob);
    if (s.ok()) s = outbox_->MarkUploaded(up->sequence);
    if (s.ok()) {
      backoff_ms = 200;
      continue;
    }
    if (!(s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded)) {
      // Refused for good (too large, malformed): it would block everything
      // behind it for ever. Set it aside, loudly.
      CAIRN_LOG_ERROR("outbox record {}: its blob ({} bytes) was refused, dropping the record: {}", up->sequence,
                      up->blob.size(), s.ToString());
      (void)outbox_->Ack(up->sequence, static_cast<uint16_t>(s.code()), "blob refused: " + std::string(s.message()));
      continue;
    }
    CAIRN_LOG_WARN("uploading the blob of outbox record {} failed (trying again in {} ms): {}", up->sequence, backoff_ms,
                   s.ToString());
    for (int64_t waited = 0; waited < backoff_ms && !stop; waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 10'000);
  }
}

Status Worker::Run(const std::atomic<bool>& stop) {
  std::atomic<bool> uploader_stop{false};
  std::thread uploader([this, &uploader_stop] { UploadLoop(uploader_stop); });
  Status s = agent_->Run(stop);
  uploader_stop = true;
  uploader.join();
  return s;
}

}  // namespace cairn::worker
