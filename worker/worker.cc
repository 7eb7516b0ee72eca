#include "worker/worker.h"

#include <thread>

#include "runtime/base/files.h"
#include "runtime/base/log.h"
#include "train/profile.h"
#include "worker/devices.h"
#include "worker/matmul_bench.h"

namespace cairn::worker {

StatusOr<std::unique_ptr<Worker>> Worker::Create(Ed25519PrivateKey identity, WorkerOptions options) {
  if (options.state_dir.empty()) return InvalidArgumentError("a worker needs a state directory (its outbox lives there)");
  if (options.coordinator_key.size() != 32) return InvalidArgumentError("the coordinator's CURVE key must be 32 bytes");
  train::PinCublasWorkspace();  // before the GPU self-measurement's first cuBLAS call
  std::unique_ptr<Worker> w(new Worker());
  w->identity_ = std::move(identity);
  w->id_ = w->identity_.public_key().KeyId();
  RETURN_IF_ERROR(MakeDirs(options.state_dir));
  if (options.cache_dir.empty()) options.cache_dir = options.state_dir + "/cache";
  if (options.claimed_gpu) {
    w->devices_ = {*options.claimed_gpu};
  } else {
    ASSIGN_OR_RETURN(w->devices_, DetectDevices(options.devices));
    // Each GPU's bf16 speed, measured once (placement and cost estimates read it).
    for (size_t i = 0; i < w->devices_.size(); ++i) {
      if (w->devices_[i].kind != wire::DeviceKind::kCuda || options.measure_seconds <= 0) continue;
      auto t = MeasureBf16Tflops(static_cast<int>(i), std::min(options.measure_seconds, 1.0));
      if (!t.ok()) return t.status().WithContext("measuring GPU " + std::to_string(i));
      w->devices_[i].bf16_tflops = *t;
      CAIRN_LOG_INFO("GPU {} ({}): {:.1f} bf16 TFLOP/s", i, w->devices_[i].name, *t);
    }
  }
  const bool cuda = w->devices_[0].kind == wire::DeviceKind::kCuda;
  if (options.measure_seconds > 0) {
    auto m = RunMatmul(options.measure_seconds, 256, cuda && !options.claimed_gpu, nullptr);
    if (!m.ok()) return m.status().WithContext("self-measurement");
    // The fastest multiply, not the mean: a worker that starts while its
    // machine is busy still advertises what it can do (cost estimates and
    // placement scores read it).
    w->tflops_ = m->best_tflops;
  }
  ASSIGN_OR_RETURN(w->outbox_, Outbox::Open(options.state_dir + "/outbox.db", options.clock));
  ASSIGN_OR_RETURN(ReplayStore replay, ReplayStore::Open(options.state_dir + "/replay"));
  w->replay_.emplace(std::move(replay));

  w->env_.identity = &w->identity_;
  w->env_.clock = options.clock;
  w->env_.coordinator_host = options.coordinator_host;
  w->env_.http_port = options.http_port;
  w->env_.cache_dir = options.cache_dir;
  w->env_.threads = options.threads;
  w->env_.cuda = cuda;
  w->env_.http_retry_budget_ms = options.http_retry_budget_ms;
  w->env_.replay = &*w->replay_;
  // A GPU worker runs cuda jobs only (placement): its rounds, and the
  // replays it is given, run on its first GPU.
  const wire::Device& first = w->devices_[0];
  w->env_.profile = cuda ? train::DeterminismProfile(options.threads,
                                                     train::CudaDeviceProfile(first.name, first.compute_capability))
                         : train::DeterminismProfile(options.threads);
  w->env_.misbehave = options.misbehave;

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
  ao.profile = w->env_.profile;
  ao.verify_only = options.verify_only;
  Worker* self = w.get();
  ao.on_challenges = [self](const std::vector<wire::Challenge>& c) { self->OnChallenges(c); };
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

void Worker::OnChallenges(const std::vector<wire::Challenge>& challenges) {
  MutexLock l(&challenges_mu_);
  challenges_ = challenges;
}

void Worker::AnswerChallenges(CoordinatorHttp& http) {
  std::vector<wire::Challenge> open;
  {
    MutexLock l(&challenges_mu_);
    open.swap(challenges_);
  }
  const int64_t now = env_.clock->MonotonicNanos() / 1'000'000;
  for (const wire::Challenge& c : open) {
    const std::string key = c.job_id + "/" + std::to_string(c.attempt) + "/" + std::to_string(c.round);
    auto at = answered_.find(key);
    if (at != answered_.end() && now - at->second < 10'000) continue;  // answered; the coordinator has not seen it yet
    answered_[key] = now;
    if (env_.misbehave == train::Misbehave::kRefuseChallenge) {
      CAIRN_LOG_WARN("TEST MODE: not answering the challenge of round {} of {}", c.round, c.job_id);
      continue;
    }
    auto state_hash = DigestFromBytes(c.state_hash, "stateHash");
    auto steps_hash = DigestFromBytes(c.steps_hash, "stepsHash");
    if (!state_hash.ok() || !steps_hash.ok()) continue;
    auto kept = replay_->Find(c.job_id, c.attempt, c.round, *state_hash, *steps_hash);
    if (!kept.ok()) {
      CAIRN_LOG_ERROR("challenge of round {} of {}: {}", c.round, c.job_id, kept.status().ToString());
      continue;
    }
    Status s = http.PutBlob(kept->steps);
    if (s.ok()) s = http.PutBlob(kept->state);
    if (s.ok()) {
      CAIRN_LOG_INFO("challenge of round {} of {} (attempt {}) answered: state and step chain disclosed", c.round,
                     c.job_id, c.attempt);
    } else {
      answered_.erase(key);  // try again with the next heartbeat's list
      CAIRN_LOG_WARN("challenge of round {} of {}: upload failed: {}", c.round, c.job_id, s.ToString());
    }
  }
  if (answered_.size() > 4096) answered_.clear();
}

void Worker::UploadLoop(const std::atomic<bool>& stop) {
  CoordinatorHttp http(env_.Http());
  int64_t backoff_ms = 200;
  while (!stop) {
    AnswerChallenges(http);
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
