// The training loop; strategies and contracts in trainer.h.
#include "train/trainer.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <cstring>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <torch/cuda.h>


#include "kernels/ops.h"
#include "train/data_source.h"
#include "train/local_group.h"
#include "train/deflate.h"
#include "train/membership.h"
#include "train/models.h"
#include "train/profile.h"
#include "train/train_device.h"
#include "train/train_state.h"
#include "train/trainer_round.h"

namespace cairn::train {

using namespace internal;  // NOLINT: the loop's own helpers (trainer_round.h)

TrainPlan PlanTraining(const TrainConfig& cfg, bool text, uint64_t train_samples, uint32_t world) {
  // Sizes: total steps over the global training set, then rounds.
  const double global_samples = static_cast<double>(train_samples) * (text ? 0.9 / cfg.context : 1.0);
  TrainPlan p;
  p.total_steps = cfg.steps > 0 ? cfg.steps
                                : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                      cfg.epochs * global_samples / static_cast<double>(cfg.batch_size * world))));
  p.steps_per_round = cfg.strategy == jobspec::Strategy::kDiloco ? cfg.inner_steps : cfg.round_steps;
  p.rounds = static_cast<uint64_t>((p.total_steps + p.steps_per_round - 1) / p.steps_per_round);
  return p;
}

namespace {

// What a worker's local ranks (TrainTask::local_ranks) share.
struct LocalShared {
  c10::intrusive_ptr<c10d::Store> store;
  std::chrono::milliseconds timeout{300000};
  std::atomic<bool> stop{false};  // every rank's cancel flag
  std::mutex mu;  // DataClient calls and seeded model builds (one global generator), and what follows
  std::vector<c10::intrusive_ptr<c10d::Backend>> pgs;  // GUARDED_BY(mu)
  std::map<uint64_t, ChunkCounts> consumed;            // GUARDED_BY(mu): round -> ranks >= 1's chunk use
  // One rank failed or the task was cancelled: every rank stops, and NCCL
  // collectives already waiting are aborted (Gloo's time out).
  void Fail() {
    stop = true;
    std::lock_guard<std::mutex> lock(mu);
    for (auto& pg : pgs) {
      try {
        pg->abort();
      } catch (const std::exception&) {
      }
    }
  }
};
struct LocalRank {
  LocalShared* shared = nullptr;
  int rank = 0, size = 1;
};

StatusOr<TrainResult> RunRank(const TrainTask& task, data::DataClient& client, const TrainHooks& hooks, const LocalRank* local) {
  const TrainConfig& cfg = task.config;
  const auto t0 = Clock::now();
  if (hooks.threads > 0) torch::set_num_threads(hooks.threads);
  if (cfg.deterministic) at::globalContext().setDeterministicAlgorithms(true, false);
  ASSIGN_OR_RETURN(const torch::Device device, PrepareDevice(cfg, task.device_index));
  c10::intrusive_ptr<c10d::Backend> local_pg;  // the worker's local ranks' group
  if (local) {
    ASSIGN_OR_RETURN(local_pg, MakeLocalGroup(local->shared->store, local->rank, local->size, device, local->shared->timeout));
    {
      std::lock_guard<std::mutex> lock(local->shared->mu);
      local->shared->pgs.push_back(local_pg);
    }
    // NCCL's communicator now, while every rank is known to be here (a rank
    // that fails later is aborted, not waited for at a lazy set-up).
    if (device.is_cuda()) local_pg->eagerConnectSingleDevice(device);
  }
  auto log = [&](const std::string& s) { if (hooks.log) hooks.log(s); };
  const uint64_t job_seed = Mix(cfg.seed, HashText(task.job_name));

  std::optional<Membership> membership;
  std::optional<SeatAuth> auth;
  if (task.identity && !task.operator_key.empty()) {
    auth = SeatAuth{task.operator_key, task.job_id, task.attempt, task.identity->public_key().bytes(), task.seat_ticket};
  }
  if (task.world > 1) {
    // The attempt's keys live under its secret: only placed workers know it.
    std::string prefix = task.job_id + "/" + std::to_string(task.attempt);
    if (!task.secret.empty()) prefix += "/" + task.secret;
    ASSIGN_OR_RETURN(Membership m, Membership::Connect(task.store_host, task.store_port, prefix, task.rank, task.world,
                                                       task.gloo_host, task.joining, auth ? &*auth : nullptr));
    m.set_cancel(hooks.cancel);
    membership.emplace(std::move(m));
  }
  uint32_t rank = task.joining ? 0 : task.rank, world = task.world;
  if (local) rank = static_cast<uint32_t>(local->rank), world = static_cast<uint32_t>(local->size);
  // Local ranks load and build one at a time: the DataClient is not shared
  // safely, and the model's initial bits come from the one global generator.
  std::unique_lock<std::mutex> init = local ? std::unique_lock<std::mutex>(local->shared->mu) : std::unique_lock<std::mutex>();
  ASSIGN_OR_RETURN(DataSource data, DataSource::Load(client, task.dataset, rank, world, cfg.context, true, cfg.vocab));
  if (cfg.model == "char-gpt" && !data.is_text()) return InvalidArgumentError("char-gpt trains on a text or tokens-u16 dataset");
  if ((cfg.model == "mlp" || cfg.model == "cnn") && data.is_text()) return InvalidArgumentError(cfg.model + " trains on an idx dataset");
  torch::manual_seed(Mix(job_seed, 1));
  ModelShape shape;
  shape.rows = std::max<int64_t>(1, data.rows());
  shape.cols = std::max<int64_t>(1, data.cols());
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, BuildModel(cfg, shape));
  model->Train(true);
  if (!task.parent_torchscript.empty()) {
    RETURN_IF_ERROR(InitFromTorchScript(*model, task.parent_torchscript));
    log("fine-tuning from the parent model's parameters");
  }
  if (init.owns_lock()) init.unlock();
  // Initialised on the CPU (the same bits whatever the device), then moved.
  model->To(device);

  const bool diloco = cfg.strategy == jobspec::Strategy::kDiloco;
  State st;
  st.params = model->Parameters();
  int64_t param_count = 0;
  for (auto& p : st.params) {
    st.exp_avg.push_back(torch::zeros_like(p));
    st.exp_avg_sq.push_back(torch::zeros_like(p));
    st.outer.push_back(p.detach().clone());
    st.momentum.push_back(torch::zeros_like(p));
    param_count += p.numel();
  }
  st.residual.push_back(torch::zeros({param_count}, torch::TensorOptions().device(device)));  // int8 error feedback, flat
  if (!task.resume_checkpoint.empty()) {
    RETURN_IF_ERROR(Restore(task.resume_checkpoint, &st));
    log("resumed from the checkpoint of round " + std::to_string(st.round));
  }

  const data::Split* train_split = task.dataset.FindSplit(data.is_text() ? "all" : "train");
  const TrainPlan plan = PlanTraining(cfg, data.is_text(), train_split->samples, local ? world : task.world);
  const int64_t total_steps = plan.total_steps;
  const int64_t steps_per_round = plan.steps_per_round;
  const uint64_t rounds = plan.rounds;
  const std::string profile = DeterminismProfile(hooks.threads, DeviceProfile(device));
  Cheat cheat;
  cheat.mode = hooks.misbehave;
  if (cheat.mode != Misbehave::kNone) log(std::string("TEST MODE: this worker misbehaves (") + MisbehaveName(cheat.mode) + ")");
  log("training " + cfg.model + ": " + std::to_string(param_count) + " parameters, " + std::to_string(total_steps) +
      " steps in " + std::to_string(rounds) + " rounds, strategy " + jobspec::StrategyName(cfg.strategy) +
      (cfg.compress_int8 ? " with int8 pseudo-gradients" : "") + ", " + std::to_string(task.world) + " worker(s), on " +
      device.str() + (cfg.bf16 ? " (bf16 autocast)" : ""));

  RoundContext ctx;
  ctx.cfg = &cfg;
  ctx.model = model.get();
  ctx.data = &data;
  ctx.st = &st;
  ctx.device = device;
  std::vector<torch::Tensor> grads(st.params.size());
  ctx.grads = &grads;
  ctx.seed = job_seed;
  ctx.adam.lr = cfg.lr;
  ctx.adam.weight_decay = cfg.weight_decay;
  ctx.total_steps = total_steps;
  ctx.cancel = hooks.cancel;
  ctx.chain_every = cfg.chain_every;  // 0: verification off, no commitments
  const bool commit = cfg.chain_every > 0;
  const StateParts parts{diloco, diloco && cfg.compress_int8};
  ctx.cheat = cheat.mode == Misbehave::kNone ? nullptr : &cheat;
  ctx.identity = auth ? task.identity : nullptr;
  ctx.job_id = task.job_id;
  ctx.attempt = task.attempt;
  TrainResult result;
  result.rounds = rounds;
  const Sha256Digest dataset_id = data::DatasetId(task.dataset);
  size_t chunk_base = 0;  // global chunk index of the training split's first chunk
  for (const auto& s : task.dataset.splits) {
    if (&s == train_split) break;
    chunk_base += s.chunks.size();
  }
  double last_round_seconds = 0;

  // A joiner waits for a round boundary where the members take it in.
  std::optional<Group> joined;
  if (task.joining) {
    if (!membership) return InvalidArgumentError("only a multi-worker job can be joined");
    uint64_t target = 0;
    while (!joined) {
      if (hooks.cancel && hooks.cancel->load()) return CancelledError("training cancelled");
      ASSIGN_OR_RETURN(uint64_t current, membership->CurrentRound());
      target = std::max(target + 1, current + 1);
      if (target > rounds) return FailedPreconditionError("the job finished before this worker could join");
      auto g = membership->Join(target, 0, std::chrono::milliseconds(hooks.membership_timeout_ms));
      if (g.ok()) {
        joined = std::move(*g);
      } else if (g.status().code() != StatusCode::kFailedPrecondition && g.status().code() != StatusCode::kAborted) {
        return g.status();
      }
    }
    st.round = target - 1;
    result.first_round = target;
    log("joined the running job at round " + std::to_string(target));
  }

  for (uint64_t round = st.round + 1; round <= rounds; ++round) {
    if (hooks.cancel && hooks.cancel->load()) return CancelledError("training cancelled");
    const int64_t steps = std::min<int64_t>(steps_per_round, total_steps - static_cast<int64_t>(round - 1) * steps_per_round);
    State snapshot = membership ? st.Clone() : State();
    RoundReport rep;
    ChunkCounts used;
    double loss_sum = 0;
    std::vector<kernels::Digest256> chain;
    std::string update, state_bytes;
    Group group;  // outlives the attempt loop: the evaluation uses it
    for (uint32_t attempt = 0;; ++attempt) {
      rep = RoundReport();
      used.clear();
      loss_sum = 0;
      chain.clear();
      update.clear();
      group = Group();
      if (membership) {
        const size_t before = membership->members().size();
        if (joined) {
          group = std::move(*joined);
          joined.reset();
        } else {
          const auto wait = std::chrono::milliseconds(static_cast<int64_t>(std::max(hooks.membership_timeout_ms / 1000.0, 1.5 * last_round_seconds) * 1000));
          auto formed = membership->Join(round, attempt, wait);
          if (!formed.ok() && formed.status().code() == StatusCode::kAborted && attempt < 5) {
            log("round " + std::to_string(round) + ": " + std::string(formed.status().message()).substr(0, 160) +
                "; forming the group again");
            continue;
          }
          ASSIGN_OR_RETURN(group, std::move(formed));
        }
        if (group.world() != before || group.rank != rank) {
          log("round " + std::to_string(round) + ": group is now " + std::to_string(group.world()) + " worker(s); this is rank " +
              std::to_string(group.rank));
        }
        if (group.rank != rank || group.world() != world) {
          rank = group.rank;
          world = group.world();
          ASSIGN_OR_RETURN(data, DataSource::Load(client, task.dataset, rank, world, cfg.context, true, cfg.vocab));
        }
      }
      if (group.sync) {
        // Some member does not hold the state yet: take rank 0's.
        if (group.rank == 0 && !membership->synced() && task.joining) {
          return FailedPreconditionError("no member that holds the job's state is left to hand it over");
        }
        try {
          ASSIGN_OR_RETURN(rep.sync_bytes, BroadcastState(*group.pg, group.rank, st, !membership->synced()));
        } catch (const std::exception& e) {
          if (attempt >= 5) return UnavailableError(std::string("handing over the state failed: ") + e.what());
          log(std::string("round ") + std::to_string(round) + ": handing over the state failed; re-forming the group");
          continue;
        }
        if (!membership->synced()) {
          snapshot = st.Clone();
          membership->MarkSynced();
        }
      }
      ctx.pg = membership ? static_cast<c10d::Backend*>(group.pg.get()) : local_pg.get();
      ctx.rank = rank;
      ctx.world = world;
      ctx.members = membership ? group.members : std::vector<uint32_t>{task.rank};
      ctx.keys = group.keys;
      if (commit) state_bytes = EncodeState(st, parts);  // what a replay of this round starts from
      rep.round = round;
      rep.rounds = rounds;
      rep.members = world;
      rep.start_unix_ms = UnixMillis();
      ASSIGN_OR_RETURN(rep.fingerprint_before, kernels::TensorFingerprint(st.params));
      const auto r0 = Clock::now();
      std::string failure;
      try {
        RETURN_IF_ERROR(RunRound(ctx, round, steps, &rep, &used, &loss_sum, &chain, &update));
      } catch (const std::exception& e) {
        failure = e.what();
        failure = failure.substr(0, failure.find('\n'));
        if (!membership) return InternalError("training step failed: " + failure);
      }
      const double round_seconds = std::chrono::duration<double>(Clock::now() - r0).count();
      if (!membership) {
        last_round_seconds = round_seconds;
        break;
      }
      // Keep the round only if every member's collectives succeeded.
      const auto vote_wait = std::chrono::milliseconds(static_cast<int64_t>(hooks.membership_timeout_ms));
      ASSIGN_OR_RETURN(bool commit, membership->Commit(round, attempt, failure.empty(), vote_wait));
      if (commit) {
        last_round_seconds = round_seconds;
        break;
      }
      if (attempt >= 5) {
        return UnavailableError("round " + std::to_string(round) + " failed 6 times" +
                                (failure.empty() ? std::string(" (a peer's collective failed)") : ": " + failure));
      }
      log("round " + std::to_string(round) + ": " +
          (failure.empty() ? std::string("a peer's collective failed") : "a collective failed (" + failure.substr(0, 160) + ")") +
          "; rolling back and re-forming the group");
      snapshot.CopyTo(st);
    }
    rep.samples_per_sec = static_cast<double>(steps * cfg.batch_size) / std::max(last_round_seconds, 1e-9);
    st.round = round;
    ASSIGN_OR_RETURN(rep.fingerprint_after, kernels::TensorFingerprint(st.params));
    rep.steps = static_cast<uint32_t>(steps);
    rep.loss = steps > 0 ? loss_sum / static_cast<double>(steps) : 0;
    // The commitments (docs/verification.md).
    if (commit) {
      rep.state_hash = Sha256(state_bytes);
      rep.state_bytes = std::move(state_bytes);
      for (const auto& fp : chain) rep.steps_blob.append(reinterpret_cast<const char*>(fp.data()), fp.size());
      rep.steps_hash = Sha256(rep.steps_blob);
      if (diloco) {
        rep.update_hash = Sha256(update);
        rep.update = std::move(update);
      } else {
        std::copy(rep.fingerprint_after.begin(), rep.fingerprint_after.end(), rep.update_hash.begin());
      }
      rep.optimizer_hash = OptimizerHash(st, parts);
    }
    rep.profile = profile;
    rep.rank = rank;
    rep.group = ctx.members;
    rep.chain_every = ctx.chain_every;
    // Local ranks' chunk use goes into rank 0's receipt (the evaluation's
    // collective below orders it: every rank adds before it enters).
    if (local && rank != 0) {
      std::lock_guard<std::mutex> lock(local->shared->mu);
      for (const auto& [chunk, n] : used) local->shared->consumed[round][chunk] += n;
    }
    try {
      const double eval = Evaluate(*model, data, device, ctx.pg, rank, world);
      if (rank == 0) rep.eval = eval;
    } catch (const std::exception& e) {
      log("round " + std::to_string(round) + ": evaluation failed (" + std::string(e.what()).substr(0, 120) + ")");
    }
    if (local && rank == 0) {
      std::lock_guard<std::mutex> lock(local->shared->mu);
      for (const auto& [chunk, n] : local->shared->consumed[round]) used[chunk] += n;
      local->shared->consumed.erase(round);
      rep.samples_per_sec *= world;  // the worker's, all its ranks
    }
    rep.end_unix_ms = UnixMillis();
    if (cheat.mode == Misbehave::kForgedTimestamps) rep.start_unix_ms -= 5 * 60 * 1000;
    for (const auto& [chunk, n] : used) rep.consumed.push_back({dataset_id, static_cast<uint32_t>(chunk_base + chunk), n});
    result.bytes_sent += rep.bytes_sent;
    result.sync_bytes += rep.sync_bytes;
    result.collectives += rep.collectives;
    result.comm_seconds += rep.comm_seconds;
    result.final_loss = rep.loss;
    if (rank == 0) result.final_eval = rep.eval;
    log(Format("round %.0f/%.0f loss %.4f ", static_cast<double>(round), static_cast<double>(rounds), rep.loss) +
        (rank == 0 ? Format(data.is_text() ? "val_loss %.4f " : "test_acc %.4f ", rep.eval) : std::string()) +
        Format("samples/s %.0f sent %.1f KiB compute %.0f%%", rep.samples_per_sec, rep.bytes_sent / 1024.0,
               100.0 * (1.0 - rep.comm_seconds / std::max(1e-9, last_round_seconds))));
    if (hooks.on_round) RETURN_IF_ERROR(hooks.on_round(rep));
    if (rank == 0 && hooks.on_checkpoint && cfg.checkpoint_every > 0 && round % cfg.checkpoint_every == 0 && round < rounds) {
      ASSIGN_OR_RETURN(std::string bytes, Serialize(st));
      RETURN_IF_ERROR(hooks.on_checkpoint(round, bytes, rep.fingerprint_after));
    }
  }
  if (membership) membership->Finish();
  ASSIGN_OR_RETURN(result.fingerprint, kernels::TensorFingerprint(st.params));
  result.leader = rank == 0;
  if (rank == 0) {
    model->To(torch::kCPU);  // the exported model serves on either device
    ASSIGN_OR_RETURN(result.torchscript, model->ExportTorchScript());
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

}  // namespace

StatusOr<TrainResult> RunTraining(const TrainTask& task, data::DataClient& client, const TrainHooks& hooks) {
  PinCublasWorkspace();
  const uint32_t n = task.local_ranks;
  if (n <= 1) return RunRank(task, client, hooks, nullptr);
  if (task.world != 1 || task.joining) {
    return InvalidArgumentError("ranks inside one worker (resources.gpus) need the worker to be the job's only seat");
  }
  if (task.config.strategy != jobspec::Strategy::kDdp) {
    return InvalidArgumentError("ranks inside one worker (resources.gpus) train with strategy ddp");
  }
  // Checked once, before any rank starts: a rank that failed alone would
  // leave the others waiting for it.
  ASSIGN_OR_RETURN(const torch::Device first, PrepareDevice(task.config, task.device_index));
  if (first.is_cuda()) {
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (task.device_index + static_cast<int>(n) > count) {
      return FailedPreconditionError("resources.gpus: " + std::to_string(n) + " needs CUDA devices " +
                                     std::to_string(task.device_index) + ".." + std::to_string(task.device_index + n - 1) +
                                     "; this worker sees " + std::to_string(count));
    }
  }
  // One rank per device, each on its own thread; rank 0 reports.
  LocalShared shared;
  shared.store = MakeLocalStore();
  shared.timeout = std::chrono::milliseconds(std::max(300000, 4 * hooks.membership_timeout_ms));
  std::vector<std::optional<StatusOr<TrainResult>>> out(n);
  std::atomic<uint32_t> done{0};
  std::mutex failed_mu;
  int first_failed = -1;  // GUARDED_BY(failed_mu): the root cause, not the ranks it stopped
  auto run = [&](uint32_t r) {
    TrainTask t = task;
    t.device_index = task.device_index + static_cast<int>(r);
    TrainHooks h;
    if (r == 0) {
      h = hooks;
      if (hooks.log) h.log = [&](const std::string& s) { hooks.log("[" + std::to_string(n) + " local ranks] " + s); };
    } else {
      h.threads = hooks.threads;
      h.membership_timeout_ms = hooks.membership_timeout_ms;
      h.misbehave = hooks.misbehave;
    }
    h.cancel = &shared.stop;
    const LocalRank local{&shared, static_cast<int>(r), static_cast<int>(n)};
    try {
      out[r] = RunRank(t, client, h, &local);
    } catch (const std::exception& e) {  // a LibTorch error outside the loop's own handling (out of memory, say)
      out[r] = InternalError(std::string("local rank ") + std::to_string(r) + ": " + e.what());
    }
    if (!out[r]->ok()) {
      {
        std::lock_guard<std::mutex> lock(failed_mu);
        if (first_failed < 0) first_failed = static_cast<int>(r);
      }
      shared.Fail();
    }
    ++done;
  };
  std::vector<std::thread> threads;
  try {
    for (uint32_t r = 0; r < n; ++r) threads.emplace_back(run, r);
  } catch (const std::exception& e) {
    shared.Fail();
    for (auto& t : threads) t.join();
    return ResourceExhaustedError(std::string("starting the local ranks' threads: ") + e.what());
  }
  // The task's own cancel reaches every rank (and aborts their collectives).
  while (done.load() < n) {
    if (hooks.cancel && hooks.cancel->load() && !shared.stop.load()) shared.Fail();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : threads) t.join();
  if (first_failed >= 0) {
    const Status& s = out[static_cast<size_t>(first_failed)]->status();
    return first_failed == 0 ? s : s.WithContext("local rank " + std::to_string(first_failed));
  }
  TrainResult result = std::move(**out[0]);
  for (uint32_t r = 1; r < n; ++r) {
    result.bytes_sent += (*out[r])->bytes_sent;
    result.collectives += (*out[r])->collectives;
  }
  return result;
}

}  // namespace cairn::train
