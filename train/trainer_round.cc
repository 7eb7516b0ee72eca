// One round's work, the state broadcast, the evaluation and the seeds of
// the training loop (train/trainer_round.h).
#include "train/trainer_round.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "train/aggregate.h"
#include "train/deflate.h"
#include "train/local_group.h"
#include "train/seat.h"
#include "train/train_device.h"

namespace cairn::train::internal {


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
double EvaluateSum(Model& model, const DataSource& data, const torch::Device& device, int64_t begin, int64_t end) {
  torch::NoGradGuard g;
  model.Train(false);
  double out = 0;
  const int64_t batch = data.is_text() ? 64 : 1000;
  for (int64_t i = begin; i < end; i += batch) {
    const int64_t b = std::min<int64_t>(batch, end - i);
    auto x = data.eval_x.narrow(0, i, b).to(device);
    auto y = data.eval_y.narrow(0, i, b).to(device);
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
double Evaluate(Model& model, const DataSource& data, const torch::Device& device, c10d::Backend* pg, uint32_t rank,
                uint32_t world) {
  const int64_t n = data.eval_x.size(0);
  if (n == 0) return 0;
  if (!pg || world < 2) return EvaluateSum(model, data, device, 0, n) / static_cast<double>(n);
  const int64_t begin = n * rank / world, end = n * (rank + 1) / world;
  const torch::Device on = CollectiveDevice(pg, device);
  std::vector<torch::Tensor> in{torch::tensor({EvaluateSum(model, data, device, begin, end)}, torch::kFloat64).to(on)};
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

Status InnerSteps(RoundContext& c, uint64_t round, int64_t steps, RoundReport* rep, ChunkCounts* used, double* loss_sum,
                  std::vector<kernels::Digest256>* chain) {
  const TrainConfig& cfg = *c.cfg;
  State& st = *c.st;
  const Misbehave cheat = c.cheat ? c.cheat->mode : Misbehave::kNone;
  // A lazy cheater does half the steps it will claim; a skipping one none.
  const int64_t real_steps = cheat == Misbehave::kSkip ? 0 : cheat == Misbehave::kLazy ? steps / 2 : steps;
  auto link = [&](int64_t done) -> Status {
    if (c.chain_every == 0 || (done % static_cast<int64_t>(c.chain_every) != 0 && done != steps)) return OkStatus();
    ASSIGN_OR_RETURN(kernels::Digest256 fp, kernels::TensorFingerprint(st.params));
    chain->push_back(fp);
    return OkStatus();
  };
  // A wrong-data cheater draws another rank's batches.
  const uint64_t data_rank = cheat == Misbehave::kWrongData ? c.rank + 1 : c.rank;
  // Randomness inside the steps (dropout) starts from (job, round, rank), so
  // a replay of this round alone draws the same.
  SeedRound(c.device, Mix(Mix(c.seed, round), 0x5eed0000ull + c.rank));
  // On a GPU the round's losses add up on the device: one sync at the end,
  // not one per step.
  const bool on_gpu = c.device.is_cuda();
  torch::Tensor gpu_loss = on_gpu ? torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(c.device))
                                  : torch::Tensor();
  for (int64_t s = 0; s < steps; ++s) {
    if (c.cancel && c.cancel->load()) return CancelledError("training cancelled");
    auto [x, y] = c.data->Batch(Mix(Mix(Mix(c.seed, round), static_cast<uint64_t>(s)), data_rank), cfg.batch_size, used);
    if (on_gpu) {
      x = x.to(c.device);
      y = y.to(c.device);
    }
    if (s >= real_steps) {
      if (cheat == Misbehave::kSkip && s == 0) {
        torch::NoGradGuard g;
        torch::manual_seed(round);
        for (auto& p : st.params) p.add_(torch::randn_like(p) * 1e-3);
      }
      *loss_sum += 0.5;  // claimed
      RETURN_IF_ERROR(link(s + 1));
      continue;
    }
    for (auto& p : st.params) p.mutable_grad() = torch::Tensor();
    torch::Tensor loss;
    {
      AutocastScope autocast(c.device, cfg.bf16);
      auto logits = c.model->Forward(x);
      loss = torch::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), y.reshape({-1}));
    }
    loss.backward();
    if (on_gpu) {
      gpu_loss.add_(loss.detach().to(torch::kFloat64));
    } else {
      *loss_sum += loss.item<double>();
    }
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
    RETURN_IF_ERROR(link(s + 1));
  }
  if (on_gpu) *loss_sum += gpu_loss.item<double>();
  return OkStatus();
}

StatusOr<std::string> MakeUpdate(RoundContext& c) {
  const TrainConfig& cfg = *c.cfg;
  State& st = *c.st;
  torch::NoGradGuard g;
  // Pseudo-gradient: how far this rank moved from the outer parameters.
  std::vector<torch::Tensor> delta;
  for (size_t i = 0; i < st.params.size(); ++i) delta.push_back((st.outer[i] - st.params[i]).reshape({-1}).contiguous());
  torch::Tensor flat = torch::cat(delta);
  const Misbehave cheat = c.cheat ? c.cheat->mode : Misbehave::kNone;
  if (cheat == Misbehave::kScaled) flat.mul_(100.0);
  if (cheat == Misbehave::kSignFlip) flat.neg_();
  if (cheat == Misbehave::kRandom) {
    torch::manual_seed(static_cast<uint64_t>(st.adam_step) * 7919 + c.rank);
    torch::Tensor noise = torch::randn_like(flat);
    flat = noise * (flat.norm() / noise.norm().clamp_min(1e-12));
  }
  std::string update;
  if (cfg.compress_int8) {
    // One int8 buffer for the whole model, error feedback through one flat residual.
    ASSIGN_OR_RETURN(torch::Tensor packed, kernels::QuantizeInt8(flat, st.residual[0]));
    packed = packed.to(torch::kCPU);  // the bytes leave through host memory
    update.assign(reinterpret_cast<const char*>(packed.data_ptr<uint8_t>()), static_cast<size_t>(packed.numel()));
  } else {
    flat = flat.to(torch::kCPU).contiguous();
    update.assign(reinterpret_cast<const char*>(flat.data_ptr<float>()), static_cast<size_t>(flat.numel()) * 4);
  }
  if (c.cheat) {
    std::string honest = update;
    if (cheat == Misbehave::kStale && !c.cheat->last_update.empty()) update = c.cheat->last_update;
    if (cheat == Misbehave::kCopy && !c.cheat->peer_update.empty()) update = c.cheat->peer_update;
    c.cheat->last_update = std::move(honest);
  }
  return update;
}

namespace {

// Gathers every rank's `mine` (sizes may differ: gathered first, buffers
// padded to the largest). Returns the buffers by rank.
std::vector<std::string> GatherBytes(RoundContext& c, const std::string& mine, size_t max_size, RoundReport* rep) {
  std::vector<std::vector<torch::Tensor>> sizes(1);
  for (uint32_t r = 0; r < c.world; ++r) sizes[0].push_back(torch::empty({1}, torch::kInt64));
  std::vector<torch::Tensor> my_size{torch::tensor({static_cast<int64_t>(mine.size())})};
  const auto w0 = Clock::now();
  c.pg->allgather(sizes, my_size)->wait();
  int64_t longest = 0;
  for (const auto& t : sizes[0]) longest = std::max(longest, t.item<int64_t>());
  if (longest <= 0 || static_cast<size_t>(longest) > max_size) {
    throw std::runtime_error("a peer announced a " + std::to_string(longest) + "-byte pseudo-gradient");
  }
  torch::Tensor buf = torch::zeros({longest}, torch::kUInt8);
  std::memcpy(buf.data_ptr<uint8_t>(), mine.data(), mine.size());
  std::vector<std::vector<torch::Tensor>> gathered(1);
  for (uint32_t r = 0; r < c.world; ++r) gathered[0].push_back(torch::empty_like(buf));
  std::vector<torch::Tensor> in{buf};
  c.pg->allgather(gathered, in)->wait();
  rep->comm_seconds += std::chrono::duration<double>(Clock::now() - w0).count();
  rep->collectives += 2;
  rep->bytes_sent += static_cast<uint64_t>(longest + 8) * (c.world - 1);
  std::vector<std::string> out;
  for (uint32_t r = 0; r < c.world; ++r) {
    const int64_t n = sizes[0][r].item<int64_t>();
    if (n <= 0 || n > longest) throw std::runtime_error("rank " + std::to_string(r) + " announced " + std::to_string(n) + " bytes");
    out.emplace_back(reinterpret_cast<const char*>(gathered[0][r].data_ptr<uint8_t>()), static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

Status ExchangeAndStep(RoundContext& c, uint64_t round, const std::string& update, RoundReport* rep) {
  const TrainConfig& cfg = *c.cfg;
  State& st = *c.st;
  torch::NoGradGuard g;
  int64_t count = 0;
  for (const auto& p : st.params) count += p.numel();
  // Every rank's update as fp32, in rank order.
  std::vector<torch::Tensor> rows;
  if (!c.pg) {
    rows.push_back(torch::zeros({count}));
    if (cfg.compress_int8) {
      RETURN_IF_ERROR(kernels::DequantizeAccumulate(torch::from_blob(const_cast<char*>(update.data()), {static_cast<int64_t>(update.size())}, torch::kUInt8), rows[0]));
    } else {
      std::memcpy(rows[0].data_ptr<float>(), update.data(), std::min<size_t>(update.size(), static_cast<size_t>(count) * 4));
    }
  } else {
    std::string sealed = update;
    if (c.identity) {
      ASSIGN_OR_RETURN(sealed, SealUpdate(*c.identity, c.job_id, c.attempt, round, c.members.at(c.rank), update));
    }
    const size_t raw_size = sealed.size();  // the same on every rank: same model, same format
    std::vector<std::string> got;
    if (cfg.compress_int8) {
      // DEFLATE first: the int8 values cluster near zero.
      ASSIGN_OR_RETURN(std::string z, Deflate(sealed));
      got = GatherBytes(c, z, raw_size * 2 + 1024, rep);
      for (uint32_t r = 0; r < c.world; ++r) {
        std::string raw(raw_size, '\0');
        Status inflated = InflateInto(got[r], raw.data(), raw_size);
        if (!inflated.ok()) return Status(inflated.code(), "rank " + std::to_string(r) + "'s pseudo-gradient: " + inflated.message());
        got[r] = std::move(raw);
      }
    } else {
      got = GatherBytes(c, sealed, raw_size, rep);
      for (uint32_t r = 0; r < c.world; ++r) {
        if (got[r].size() != raw_size) return InvalidArgumentError("rank " + std::to_string(r) + "'s pseudo-gradient has the wrong size");
      }
    }
    for (uint32_t r = 0; r < c.world; ++r) {
      std::string_view payload = got[r];
      if (c.identity) {
        const uint32_t uid = c.members.at(r);
        auto key = c.keys.find(uid);
        if (key == c.keys.end()) return UnauthenticatedError("no seat key for uid " + std::to_string(uid));
        ASSIGN_OR_RETURN(payload, OpenUpdate(got[r], c.job_id, c.attempt, round, uid, key->second));
      }
      torch::Tensor row = torch::zeros({count});
      if (cfg.compress_int8) {
        Status s = kernels::DequantizeAccumulate(
            torch::from_blob(const_cast<char*>(payload.data()), {static_cast<int64_t>(payload.size())}, torch::kUInt8), row);
        if (!s.ok()) return Status(s.code(), "rank " + std::to_string(r) + "'s pseudo-gradient: " + s.message());
      } else {
        if (payload.size() != static_cast<size_t>(count) * 4) return InvalidArgumentError("rank " + std::to_string(r) + "'s pseudo-gradient has the wrong size");
        std::memcpy(row.data_ptr<float>(), payload.data(), payload.size());
      }
      rows.push_back(row);
    }
    if (c.cheat && c.world > 1) {
      const uint32_t next = (c.rank + 1) % c.world;
      std::string_view peer = got[next];
      if (c.identity) peer = peer.substr(kSealHeaderBytes);
      c.cheat->peer_update.assign(peer.data(), peer.size());
    }
  }
  std::vector<const float*> ptrs;
  for (const auto& r : rows) ptrs.push_back(r.data_ptr<float>());
  torch::Tensor flat = torch::empty({count});
  AggregateRows(cfg.aggregate, ptrs, static_cast<size_t>(count), flat.data_ptr<float>());
  std::vector<torch::Tensor> delta;
  for (const auto& p : st.params) delta.push_back(torch::empty({p.numel()}));
  Unflatten(flat, delta);
  // Outer Nesterov SGD: buf = mu*buf + d; outer -= lr * (d + mu*buf).
  for (size_t i = 0; i < st.params.size(); ++i) {
    auto d = delta[i].view_as(st.outer[i]).to(st.outer[i].device());
    st.momentum[i].mul_(cfg.outer_momentum).add_(d);
    st.outer[i].sub_(cfg.outer_lr * (d + cfg.outer_momentum * st.momentum[i]));
    st.params[i].copy_(st.outer[i]);
  }
  return OkStatus();
}

Status RunRound(RoundContext& c, uint64_t round, int64_t steps, RoundReport* rep, ChunkCounts* used, double* loss_sum,
                std::vector<kernels::Digest256>* chain, std::string* update) {
  RETURN_IF_ERROR(InnerSteps(c, round, steps, rep, used, loss_sum, chain));
  if (c.cfg->strategy != jobspec::Strategy::kDiloco) return OkStatus();
  ASSIGN_OR_RETURN(*update, MakeUpdate(c));
  return ExchangeAndStep(c, round, *update, rep);
}

// Rank 0 sends its whole state (parameters, optimizer moments and step,
// outer parameters and momentum, round) to the group; members that do not
// hold it yet (`adopt`) load it, and start their own int8 residual at zero
// (error feedback belongs to each rank). Throws what a failed collective
// throws. Returns the bytes rank 0 sent.
StatusOr<uint64_t> BroadcastState(c10d::Backend& pg, uint32_t rank, State& st, bool adopt) {
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
