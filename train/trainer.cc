// The training loop; strategies and contracts in trainer.h.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <sstream>


#include "kernels/ops.h"
#include "train/data_source.h"
#include "train/deflate.h"
#include "train/membership.h"
#include "train/models.h"
#include "train/train_state.h"

namespace cairn::train {
namespace {

using Clock = std::chrono::steady_clock;

int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Seeds derived from the job alone (SplitMix64 over FNV-1a of the parts).
uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}
uint64_t HashText(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string Format(const char* fmt, double a, double b = 0, double c = 0, double d = 0, double e = 0) {
  char buf[256];
  std::snprintf(buf, sizeof(buf), fmt, a, b, c, d, e);
  return buf;
}

torch::Tensor Flatten(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> flat;
  for (const auto& t : ts) flat.push_back(t.reshape({-1}));
  return torch::cat(flat);
}

void Unflatten(const torch::Tensor& flat, std::vector<torch::Tensor>& ts) {
  int64_t off = 0;
  for (auto& t : ts) {
    t.copy_(flat.narrow(0, off, t.numel()).view_as(t));
    off += t.numel();
  }
}

// The evaluation metric's sum over eval rows [begin, end): correct
// predictions (images) or summed token cross-entropy per window (text).
double EvaluateSum(Model& model, const DataSource& data, int64_t begin, int64_t end) {
  torch::NoGradGuard g;
  model.Train(false);
  double out = 0;
  const int64_t batch = data.is_text() ? 64 : 1000;
  for (int64_t i = begin; i < end; i += batch) {
    const int64_t b = std::min<int64_t>(batch, end - i);
    auto x = data.eval_x.narrow(0, i, b);
    auto y = data.eval_y.narrow(0, i, b);
    if (!data.is_text()) {
      out += static_cast<double>(model.Forward(x).argmax(1).eq(y).sum().item<int64_t>());
    } else {
      auto logits = model.Forward(x);
      out += torch::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), y.reshape({-1})).item<double>() * static_cast<double>(b);
    }
  }
  model.Train(true);
  return out;
}

// Test accuracy (images) or validation loss (text). With a group, each rank
// scores its slice and the sums are gathered and added in rank order (same
// answer on every rank), so no rank idles while another evaluates: that
// wait would be charged to the next round's collective.
double Evaluate(Model& model, const DataSource& data, c10d::ProcessGroupGloo* pg, uint32_t rank, uint32_t world) {
  const int64_t n = data.eval_x.size(0);
  if (n == 0) return 0;
  if (!pg || world < 2) return EvaluateSum(model, data, 0, n) / static_cast<double>(n);
  const int64_t begin = n * rank / world, end = n * (rank + 1) / world;
  std::vector<torch::Tensor> in{torch::tensor({EvaluateSum(model, data, begin, end)}, torch::kFloat64)};
  std::vector<std::vector<torch::Tensor>> all(1);
  for (uint32_t r = 0; r < world; ++r) all[0].push_back(torch::empty_like(in[0]));
  pg->allgather(all, in)->wait();
  double sum = 0;
  for (const auto& t : all[0]) sum += t.item<double>();
  return sum / static_cast<double>(n);
}

// One round's work on the current group: the steps, then (diloco) the
// outer step. Throws whatever a failed collective throws; the caller rolls
// back and retries on a new group.
struct RoundContext {
  const TrainConfig* cfg;
  Model* model;
  DataSource* data;
  State* st;
  std::vector<torch::Tensor>* grads;
  c10d::ProcessGroupGloo* pg;  // null for one worker
  uint32_t rank, world;
  uint64_t seed;
  kernels::AdamWOptions adam;
  int64_t total_steps = 1;
  const std::atomic<bool>* cancel = nullptr;  // checked before every step
};

// flat <- the mean of every rank's flat, through a ring all-reduce.
void AllReduceMean(RoundContext& c, torch::Tensor& flat, RoundReport* rep) {
  std::vector<torch::Tensor> v{flat};
  const auto w0 = Clock::now();
  c.pg->allreduce(v)->wait();
  rep->comm_seconds += std::chrono::duration<double>(Clock::now() - w0).count();
  ++rep->collectives;
  flat.div_(static_cast<double>(c.world));
  rep->bytes_sent += static_cast<uint64_t>(2.0 * (c.world - 1) / c.world * flat.numel() * 4);
}

Status RunRound(RoundContext& c, uint64_t round, int64_t steps, RoundReport* rep, ChunkCounts* used, double* loss_sum) {
  const TrainConfig& cfg = *c.cfg;
  State& st = *c.st;
  for (int64_t s = 0; s < steps; ++s) {
    if (c.cancel && c.cancel->load()) return CancelledError("training cancelled");
    auto [x, y] = c.data->Batch(Mix(Mix(Mix(c.seed, round), static_cast<uint64_t>(s)), c.rank), cfg.batch_size, used);
    for (auto& p : st.params) p.mutable_grad() = torch::Tensor();
    auto logits = c.model->Forward(x);
    auto loss = torch::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), y.reshape({-1}));
    loss.backward();
    *loss_sum += loss.item<double>();
    auto& grads = *c.grads;
    for (size_t i = 0; i < st.params.size(); ++i) {
      grads[i] = st.params[i].grad().defined() ? st.params[i].grad() : torch::zeros_like(st.params[i]);
    }
    if (cfg.strategy == jobspec::Strategy::kDdp && c.pg) {
      torch::Tensor flat = Flatten(grads);
      AllReduceMean(c, flat, rep);
      torch::NoGradGuard g;
      Unflatten(flat, grads);
    }
    torch::NoGradGuard g;
    ++st.adam_step;
    c.adam.lr = LearningRateAt(cfg, st.adam_step, c.total_steps);
    RETURN_IF_ERROR(kernels::FusedAdamWStep(st.params, grads, st.exp_avg, st.exp_avg_sq, c.adam, st.adam_step));
  }
  if (cfg.strategy != jobspec::Strategy::kDiloco) return OkStatus();
  torch::NoGradGuard g;
  // Pseudo-gradient: how far this rank moved from the outer parameters.
  std::vector<torch::Tensor> delta;
  for (size_t i = 0; i < st.params.size(); ++i) delta.push_back((st.outer[i] - st.params[i]).reshape({-1}).contiguous());
  if (c.pg && cfg.compress_int8) {
    // One int8 buffer for the whole model (one collective per round), with
    // error feedback through one flat residual.
    torch::Tensor flat = torch::cat(delta);
    ASSIGN_OR_RETURN(torch::Tensor packed, kernels::QuantizeInt8(flat, st.residual[0]));
    // Then DEFLATE: the int8 values cluster near zero. Sizes differ by rank,
    // so they are gathered first and the buffers padded to the largest.
    const size_t raw_size = static_cast<size_t>(packed.numel());
    ASSIGN_OR_RETURN(std::string z, Deflate(std::string_view(reinterpret_cast<const char*>(packed.data_ptr<uint8_t>()), raw_size)));
    std::vector<std::vector<torch::Tensor>> sizes(1);
    for (uint32_t r = 0; r < c.world; ++r) sizes[0].push_back(torch::empty({1}, torch::kInt64));
    std::vector<torch::Tensor> my_size{torch::tensor({static_cast<int64_t>(z.size())})};
    const auto w0 = Clock::now();
    c.pg->allgather(sizes, my_size)->wait();
    int64_t longest = 0;
    for (const auto& t : sizes[0]) longest = std::max(longest, t.item<int64_t>());
    if (longest <= 0 || longest > static_cast<int64_t>(raw_size) * 2 + 1024) {
      return InternalError("a peer announced a " + std::to_string(longest) + "-byte pseudo-gradient");
    }
    torch::Tensor mine = torch::zeros({longest}, torch::kUInt8);
    std::memcpy(mine.data_ptr<uint8_t>(), z.data(), z.size());
    std::vector<std::vector<torch::Tensor>> gathered(1);
    for (uint32_t r = 0; r < c.world; ++r) gathered[0].push_back(torch::empty_like(mine));
    std::vector<torch::Tensor> in{mine};
    c.pg->allgather(gathered, in)->wait();
    rep->comm_seconds += std::chrono::duration<double>(Clock::now() - w0).count();
    rep->collectives += 2;
    rep->bytes_sent += static_cast<uint64_t>(longest + 8) * (c.world - 1);
    for (uint32_t r = 0; r < c.world; ++r) {
      const int64_t n = sizes[0][r].item<int64_t>();
      if (n <= 0 || n > longest) return InternalError("rank " + std::to_string(r) + " announced " + std::to_string(n) + " bytes");
      const auto* p = reinterpret_cast<const char*>(gathered[0][r].data_ptr<uint8_t>());
      torch::Tensor raw = torch::empty({static_cast<int64_t>(raw_size)}, torch::kUInt8);
      Status inflated = InflateInto(std::string_view(p, static_cast<size_t>(n)), reinterpret_cast<char*>(raw.data_ptr<uint8_t>()), raw_size);
      if (!inflated.ok()) return Status(inflated.code(), "rank " + std::to_string(r) + "'s pseudo-gradient: " + inflated.message());
      gathered[0][r] = raw;
    }
    flat.zero_();
    for (const auto& buf : gathered[0]) RETURN_IF_ERROR(kernels::DequantizeAccumulate(buf, flat));
    flat.div_(static_cast<double>(c.world));
    Unflatten(flat, delta);
  } else if (c.pg) {
    torch::Tensor flat = torch::cat(delta);
    AllReduceMean(c, flat, rep);
    Unflatten(flat, delta);
  }
  // Outer Nesterov SGD: buf = mu*buf + d; outer -= lr * (d + mu*buf).
  for (size_t i = 0; i < st.params.size(); ++i) {
    auto d = delta[i].view_as(st.outer[i]);
    st.momentum[i].mul_(cfg.outer_momentum).add_(d);
    st.outer[i].sub_(cfg.outer_lr * (d + cfg.outer_momentum * st.momentum[i]));
    st.params[i].copy_(st.outer[i]);
  }
  return OkStatus();
}

// Rank 0 sends its whole state (parameters, optimizer moments and step,
// outer parameters and momentum, round) to the group; members that do not
// hold it yet (`adopt`) load it, and start their own int8 residual at zero
// (error feedback belongs to each rank). Throws what a failed collective
// throws. Returns the bytes rank 0 sent.
StatusOr<uint64_t> BroadcastState(c10d::ProcessGroupGloo& pg, uint32_t rank, State& st, bool adopt) {
  std::string bytes;
  if (rank == 0) {
    ASSIGN_OR_RETURN(bytes, Serialize(st));
  }
  std::vector<torch::Tensor> size{torch::tensor({static_cast<int64_t>(bytes.size())})};
  pg.broadcast(size)->wait();
  const int64_t n = size[0].item<int64_t>();
  if (n <= 0 || n > (int64_t{1} << 34)) return InternalError("state broadcast of " + std::to_string(n) + " bytes");
  std::vector<torch::Tensor> buf{rank == 0 ? torch::from_blob(bytes.data(), {n}, torch::kUInt8).clone() : torch::empty({n}, torch::kUInt8)};
  pg.broadcast(buf)->wait();
  if (rank != 0 && adopt) {
    RETURN_IF_ERROR(Restore(std::string(reinterpret_cast<const char*>(buf[0].data_ptr<uint8_t>()), static_cast<size_t>(n)), &st));
    torch::NoGradGuard g;
    for (auto& r : st.residual) r.zero_();
  }
  return rank == 0 ? static_cast<uint64_t>(n) * (pg.getSize() - 1) : 0;
}

}  // namespace

StatusOr<TrainResult> RunTraining(const TrainTask& task, data::DataClient& client, const TrainHooks& hooks) {
  const TrainConfig& cfg = task.config;
  const auto t0 = Clock::now();
  if (hooks.threads > 0) torch::set_num_threads(hooks.threads);
  if (cfg.deterministic) at::globalContext().setDeterministicAlgorithms(true, false);
  auto log = [&](const std::string& s) { if (hooks.log) hooks.log(s); };
  const uint64_t job_seed = Mix(cfg.seed, HashText(task.job_name));

  std::optional<Membership> membership;
  if (task.world > 1) {
    ASSIGN_OR_RETURN(Membership m, Membership::Connect(task.store_host, task.store_port,
                                                       task.job_id + "/" + std::to_string(task.attempt), task.rank,
                                                       task.world, task.gloo_host, task.joining));
    membership.emplace(std::move(m));
  }
  uint32_t rank = task.joining ? 0 : task.rank, world = task.world;
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
  st.residual.push_back(torch::zeros({param_count}));  // int8 error feedback, flat
  if (!task.resume_checkpoint.empty()) {
    RETURN_IF_ERROR(Restore(task.resume_checkpoint, &st));
    log("resumed from the checkpoint of round " + std::to_string(st.round));
  }

  // Sizes: total steps over the global training set, then rounds.
  const data::Split* train_split = task.dataset.FindSplit(data.is_text() ? "all" : "train");
  const double global_samples = static_cast<double>(train_split->samples) * (data.is_text() ? 0.9 / cfg.context : 1.0);
  const int64_t total_steps = cfg.steps > 0 ? cfg.steps
                                            : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                                  cfg.epochs * global_samples / static_cast<double>(cfg.batch_size * task.world))));
  const int64_t steps_per_round = diloco ? cfg.inner_steps : cfg.round_steps;
  const uint64_t rounds = static_cast<uint64_t>((total_steps + steps_per_round - 1) / steps_per_round);
  log("training " + cfg.model + ": " + std::to_string(param_count) + " parameters, " + std::to_string(total_steps) +
      " steps in " + std::to_string(rounds) + " rounds, strategy " + jobspec::StrategyName(cfg.strategy) +
      (cfg.compress_int8 ? " with int8 pseudo-gradients" : "") + ", " + std::to_string(task.world) + " worker(s)");

  RoundContext ctx;
  ctx.cfg = &cfg;
  ctx.model = model.get();
  ctx.data = &data;
  ctx.st = &st;
  std::vector<torch::Tensor> grads(st.params.size());
  ctx.grads = &grads;
  ctx.seed = job_seed;
  ctx.adam.lr = cfg.lr;
  ctx.adam.weight_decay = cfg.weight_decay;
  ctx.total_steps = total_steps;
  ctx.cancel = hooks.cancel;
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
      } else if (g.status().code() != StatusCode::kFailedPrecondition) {
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
    Group group;  // outlives the attempt loop: the evaluation uses it
    for (uint32_t attempt = 0;; ++attempt) {
      rep = RoundReport();
      used.clear();
      loss_sum = 0;
      group = Group();
      if (membership) {
        const size_t before = membership->members().size();
        if (joined) {
          group = std::move(*joined);
          joined.reset();
        } else {
          const auto wait = std::chrono::milliseconds(static_cast<int64_t>(std::max(hooks.membership_timeout_ms / 1000.0, 1.5 * last_round_seconds) * 1000));
          ASSIGN_OR_RETURN(group, membership->Join(round, attempt, wait));
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
      ctx.pg = group.pg.get();
      ctx.rank = rank;
      ctx.world = world;
      rep.round = round;
      rep.rounds = rounds;
      rep.members = world;
      rep.start_unix_ms = UnixMillis();
      ASSIGN_OR_RETURN(rep.fingerprint_before, kernels::TensorFingerprint(st.params));
      const auto r0 = Clock::now();
      std::string failure;
      try {
        RETURN_IF_ERROR(RunRound(ctx, round, steps, &rep, &used, &loss_sum));
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
    try {
      const double eval = Evaluate(*model, data, group.pg.get(), rank, world);
      if (rank == 0) rep.eval = eval;
    } catch (const std::exception& e) {
      log("round " + std::to_string(round) + ": evaluation failed (" + std::string(e.what()).substr(0, 120) + ")");
    }
    rep.end_unix_ms = UnixMillis();
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
    ASSIGN_OR_RETURN(result.torchscript, model->ExportTorchScript());
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

}  // namespace cairn::train
