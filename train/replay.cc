// Replaying one worker's round from the state it disclosed (train/trainer.h,
// ReplayRound; docs/verification.md): the training loop's own InnerSteps and
// MakeUpdate, on one rank's data, with nobody to exchange with.
#include <chrono>

#include "kernels/ops.h"
#include "train/data_source.h"
#include "train/models.h"
#include "train/train_state.h"
#include "train/trainer.h"
#include "train/trainer_round.h"

namespace cairn::train {

using namespace internal;  // NOLINT: the loop's own helpers (trainer_round.h)

StatusOr<ReplayResult> ReplayRound(const ReplayInput& in, data::DataClient& client) {
  const auto t0 = Clock::now();
  const TrainConfig& cfg = in.config;
  if (in.threads > 0) torch::set_num_threads(in.threads);
  at::globalContext().setDeterministicAlgorithms(cfg.deterministic, false);
  if (in.group_world == 0 || in.rank >= in.group_world) return InvalidArgumentError("replay: rank is not below the group's size");
  const uint64_t job_seed = Mix(cfg.seed, HashText(in.job_name));
  ASSIGN_OR_RETURN(DataSource data, DataSource::Load(client, in.dataset, in.rank, in.group_world, cfg.context, false, cfg.vocab));
  torch::manual_seed(Mix(job_seed, 1));
  ModelShape shape;
  shape.rows = std::max<int64_t>(1, data.rows());
  shape.cols = std::max<int64_t>(1, data.cols());
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, BuildModel(cfg, shape));
  model->Train(true);
  State st;
  st.params = model->Parameters();
  int64_t param_count = 0;
  for (auto& p : st.params) {
    st.exp_avg.push_back(torch::zeros_like(p));
    st.exp_avg_sq.push_back(torch::zeros_like(p));
    st.outer.push_back(torch::zeros_like(p));
    st.momentum.push_back(torch::zeros_like(p));
    param_count += p.numel();
  }
  st.residual.push_back(torch::zeros({param_count}));
  RETURN_IF_ERROR(DecodeState(in.state, &st));

  ReplayResult out;
  out.state_round = st.round;
  ASSIGN_OR_RETURN(out.fingerprint_before, kernels::TensorFingerprint(st.params));
  out.optimizer_before = OptimizerHash(st);
  const data::Split* train_split = in.dataset.FindSplit(data.is_text() ? "all" : "train");
  if (!train_split) return InvalidArgumentError("replay: the dataset has no training split");
  const TrainPlan plan = PlanTraining(cfg, data.is_text(), train_split->samples, in.world);

  RoundContext ctx;
  ctx.cfg = &cfg;
  ctx.model = model.get();
  ctx.data = &data;
  ctx.st = &st;
  std::vector<torch::Tensor> grads(st.params.size());
  ctx.grads = &grads;
  ctx.pg = nullptr;
  ctx.rank = in.rank;
  ctx.world = in.group_world;
  ctx.seed = job_seed;
  ctx.adam.lr = cfg.lr;
  ctx.adam.weight_decay = cfg.weight_decay;
  ctx.total_steps = plan.total_steps;
  ctx.chain_every = std::max<uint32_t>(1, in.chain_every);
  RoundReport rep;
  ChunkCounts used;
  double loss_sum = 0;
  RETURN_IF_ERROR(InnerSteps(ctx, in.round, in.steps, &rep, &used, &loss_sum, &out.chain));
  if (cfg.strategy == jobspec::Strategy::kDiloco) {
    ASSIGN_OR_RETURN(std::string update, MakeUpdate(ctx));
    out.update_hash = Sha256(update);
  } else {
    ASSIGN_OR_RETURN(kernels::Digest256 after, kernels::TensorFingerprint(st.params));
    std::copy(after.begin(), after.end(), out.update_hash.begin());
  }
  out.optimizer_hash = OptimizerHash(st);
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

}  // namespace cairn::train
