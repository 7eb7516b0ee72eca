// One round's work, the state broadcast, the evaluation and the seeds of
// the training loop (train/trainer_round.h).
#include "train/trainer_round.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "train/deflate.h"

namespace cairn::train::internal {
namespace {
}  // namespace


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

std::string Format(const char* fmt, double a, double b, double c, double d, double e) {
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

}  // namespace cairn::train::internal
