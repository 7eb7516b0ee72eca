// Replaying one worker's round from the state it disclosed (train/trainer.h,
// ReplayRound; docs/verification.md): the training loop's own InnerSteps and
// MakeUpdate, on one rank's data, with nobody to exchange with.
#include <chrono>
#include <optional>

#include "kernels/ops.h"
#include "train/data_source.h"
#include "train/models.h"
#include "train/train_state.h"
#include "train/profile.h"
#include "train/train_device.h"
#include "train/trainer.h"
#include "train/trainer_round.h"

namespace cairn::train {

using namespace internal;  // NOLINT: the loop's own helpers (trainer_round.h)

namespace {

class TorchReplayer : public Replayer {
 public:
  StatusOr<ReplayResult> Replay(uint64_t round, uint32_t steps, uint32_t chain_every, const std::string& state) override;

  ReplayInput in_;
  uint64_t job_seed_ = 0;
  torch::Device device_ = torch::kCPU;
  std::optional<DataSource> data_;
  std::unique_ptr<Model> model_;
  State st_;
  TrainPlan plan_;
};

}  // namespace

StatusOr<std::unique_ptr<Replayer>> Replayer::Create(const ReplayInput& in, data::DataClient& client) {
  const TrainConfig& cfg = in.config;
  if (in.threads > 0) torch::set_num_threads(in.threads);
  at::globalContext().setDeterministicAlgorithms(cfg.deterministic, false);
  if (in.group_world == 0 || in.rank >= in.group_world) return InvalidArgumentError("replay: rank is not below the group's size");
  PinCublasWorkspace();
  auto r = std::make_unique<TorchReplayer>();
  ASSIGN_OR_RETURN(r->device_, PrepareDevice(cfg, 0));  // a cuda round replays on this verifier's GPU (same profile)
  r->in_ = in;
  r->job_seed_ = Mix(cfg.seed, HashText(in.job_name));
  ASSIGN_OR_RETURN(DataSource data, DataSource::Load(client, in.dataset, in.rank, in.group_world, cfg.context, false, cfg.vocab));
  r->data_.emplace(std::move(data));
  torch::manual_seed(Mix(r->job_seed_, 1));
  ModelShape shape;
  shape.rows = std::max<int64_t>(1, r->data_->rows());
  shape.cols = std::max<int64_t>(1, r->data_->cols());
  ASSIGN_OR_RETURN(r->model_, BuildModel(cfg, shape));
  r->model_->Train(true);
  r->model_->To(r->device_);
  State& st = r->st_;
  st.params = r->model_->Parameters();
  int64_t param_count = 0;
  for (auto& p : st.params) {
    st.exp_avg.push_back(torch::zeros_like(p));
    st.exp_avg_sq.push_back(torch::zeros_like(p));
    st.outer.push_back(torch::zeros_like(p));
    st.momentum.push_back(torch::zeros_like(p));
    param_count += p.numel();
  }
  st.residual.push_back(torch::zeros({param_count}, torch::TensorOptions().device(r->device_)));
  const data::Split* train_split = in.dataset.FindSplit(r->data_->is_text() ? "all" : "train");
  if (!train_split) return InvalidArgumentError("replay: the dataset has no training split");
  r->plan_ = PlanTraining(cfg, r->data_->is_text(), train_split->samples, in.world);
  return std::unique_ptr<Replayer>(std::move(r));
}

StatusOr<ReplayResult> TorchReplayer::Replay(uint64_t round, uint32_t steps, uint32_t chain_every, const std::string& state) {
  const auto t0 = Clock::now();
  const TrainConfig& cfg = in_.config;
  const bool diloco = cfg.strategy == jobspec::Strategy::kDiloco;
  const StateParts parts{diloco, diloco && cfg.compress_int8};
  RETURN_IF_ERROR(DecodeState(state, parts, &st_));
  ReplayResult out;
  out.state_round = st_.round;
  ASSIGN_OR_RETURN(out.fingerprint_before, kernels::TensorFingerprint(st_.params));
  out.optimizer_before = OptimizerHash(st_, parts);
  RoundContext ctx;
  ctx.cfg = &cfg;
  ctx.model = model_.get();
  ctx.data = &*data_;
  ctx.st = &st_;
  ctx.device = device_;
  std::vector<torch::Tensor> grads(st_.params.size());
  ctx.grads = &grads;
  ctx.pg = nullptr;
  ctx.rank = in_.rank;
  ctx.world = in_.group_world;
  ctx.seed = job_seed_;
  ctx.adam.lr = cfg.lr;
  ctx.adam.weight_decay = cfg.weight_decay;
  ctx.total_steps = plan_.total_steps;
  ctx.chain_every = std::max<uint32_t>(1, chain_every);
  RoundReport rep;
  ChunkCounts used;
  double loss_sum = 0;
  RETURN_IF_ERROR(InnerSteps(ctx, round, steps, &rep, &used, &loss_sum, &out.chain));
  if (cfg.strategy == jobspec::Strategy::kDiloco) {
    ASSIGN_OR_RETURN(std::string update, MakeUpdate(ctx));
    out.update_hash = Sha256(update);
  } else {
    ASSIGN_OR_RETURN(kernels::Digest256 after, kernels::TensorFingerprint(st_.params));
    std::copy(after.begin(), after.end(), out.update_hash.begin());
  }
  out.optimizer_hash = OptimizerHash(st_, parts);
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

StatusOr<ReplayResult> ReplayRound(const ReplayInput& in, data::DataClient& client) {
  ASSIGN_OR_RETURN(std::unique_ptr<Replayer> r, Replayer::Create(in, client));
  return r->Replay(in.round, in.steps, in.chain_every, in.state);
}

}  // namespace cairn::train
