// The training loop; strategies and contracts in trainer.h.
#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "kernels/ops.h"
#include "train/data_source.h"
#include "train/models.h"

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

// The state a checkpoint holds, by name.
struct State {
  std::vector<torch::Tensor> params, exp_avg, exp_avg_sq, outer, momentum;
  int64_t adam_step = 0;
  uint64_t round = 0;
};

StatusOr<std::string> Serialize(const State& s) {
  try {
    torch::serialize::OutputArchive a;
    a.write("format", torch::tensor(int64_t{1}));
    a.write("round", torch::tensor(static_cast<int64_t>(s.round)));
    a.write("adam_step", torch::tensor(s.adam_step));
    auto put = [&](const std::string& name, const std::vector<torch::Tensor>& ts) {
      a.write(name + "/n", torch::tensor(static_cast<int64_t>(ts.size())));
      for (size_t i = 0; i < ts.size(); ++i) a.write(name + "/" + std::to_string(i), ts[i].detach());
    };
    put("params", s.params);
    put("exp_avg", s.exp_avg);
    put("exp_avg_sq", s.exp_avg_sq);
    put("outer", s.outer);
    put("momentum", s.momentum);
    std::ostringstream out;
    a.save_to(out);
    return out.str();
  } catch (const std::exception& e) {
    return InternalError(std::string("checkpoint: ") + e.what());
  }
}

Status Restore(const std::string& bytes, State* s) {
  try {
    std::istringstream in(bytes);
    torch::serialize::InputArchive a;
    a.load_from(in);
    torch::Tensor t;
    a.read("round", t);
    s->round = static_cast<uint64_t>(t.item<int64_t>());
    a.read("adam_step", t);
    s->adam_step = t.item<int64_t>();
    auto get = [&](const std::string& name, std::vector<torch::Tensor>& ts) -> Status {
      torch::Tensor n;
      a.read(name + "/n", n);
      if (n.item<int64_t>() != static_cast<int64_t>(ts.size())) {
        return InvalidArgumentError("checkpoint " + name + " holds " + std::to_string(n.item<int64_t>()) +
                                    " tensors; this model has " + std::to_string(ts.size()));
      }
      torch::NoGradGuard g;
      for (size_t i = 0; i < ts.size(); ++i) {
        torch::Tensor v;
        a.read(name + "/" + std::to_string(i), v);
        if (!v.sizes().equals(ts[i].sizes())) return InvalidArgumentError("checkpoint " + name + " shapes differ from the model");
        ts[i].copy_(v);
      }
      return OkStatus();
    };
    RETURN_IF_ERROR(get("params", s->params));
    RETURN_IF_ERROR(get("exp_avg", s->exp_avg));
    RETURN_IF_ERROR(get("exp_avg_sq", s->exp_avg_sq));
    RETURN_IF_ERROR(get("outer", s->outer));
    return get("momentum", s->momentum);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("checkpoint does not load: ") + e.what());
  }
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

double Evaluate(Model& model, const DataSource& data) {
  torch::NoGradGuard g;
  model.Train(false);
  double out = 0;
  if (!data.is_text()) {
    int64_t correct = 0;
    const int64_t n = data.eval_x.size(0);
    for (int64_t i = 0; i < n; i += 1000) {
      const int64_t b = std::min<int64_t>(1000, n - i);
      auto pred = model.Forward(data.eval_x.narrow(0, i, b)).argmax(1);
      correct += pred.eq(data.eval_y.narrow(0, i, b)).sum().item<int64_t>();
    }
    out = static_cast<double>(correct) / static_cast<double>(n);
  } else {
    double total = 0;
    const int64_t n = data.eval_x.size(0);
    for (int64_t i = 0; i < n; i += 64) {
      const int64_t b = std::min<int64_t>(64, n - i);
      auto logits = model.Forward(data.eval_x.narrow(0, i, b));
      total += torch::cross_entropy_loss(logits.reshape({-1, 256}), data.eval_y.narrow(0, i, b).reshape({-1})).item<double>() * b;
    }
    out = total / static_cast<double>(n);
  }
  model.Train(true);
  return out;
}

}  // namespace

StatusOr<TrainResult> RunTraining(const TrainTask& task, data::DataClient& client, const TrainHooks& hooks) {
  const TrainConfig& cfg = task.config;
  const auto t0 = Clock::now();
  if (hooks.threads > 0) torch::set_num_threads(hooks.threads);
  if (cfg.deterministic) at::globalContext().setDeterministicAlgorithms(true, false);
  auto log = [&](const std::string& s) { if (hooks.log) hooks.log(s); };
  const uint64_t job_seed = Mix(cfg.seed, HashText(task.job_name));

  // Process group for ddp / diloco.
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  if (task.world > 1) {
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<uint16_t>(task.store_port);
      so.isServer = false;
      so.waitWorkers = false;
      so.timeout = std::chrono::minutes(5);
      auto store = c10::make_intrusive<c10d::TCPStore>(task.store_host, so);
      auto prefixed = c10::make_intrusive<c10d::PrefixStore>(task.job_id + "/" + std::to_string(task.attempt), store);
      auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::minutes(5));
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(task.gloo_host));
      pg = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, task.rank, task.world, opts);
    } catch (const std::exception& e) {
      return UnavailableError(std::string("cannot join the process group at ") + task.store_host + ":" +
                              std::to_string(task.store_port) + ": " + e.what());
    }
    log(Format("rank %.0f joined a Gloo process group of %.0f", task.rank, task.world));
  }

  ASSIGN_OR_RETURN(DataSource data, DataSource::Load(client, task.dataset, task.rank, task.world, cfg.context, task.rank == 0));
  if (cfg.model == "char-gpt" && !data.is_text()) return InvalidArgumentError("char-gpt trains on a text dataset");
  if ((cfg.model == "mlp" || cfg.model == "cnn") && data.is_text()) return InvalidArgumentError(cfg.model + " trains on an idx dataset");
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
    st.outer.push_back(p.detach().clone());
    st.momentum.push_back(torch::zeros_like(p));
    param_count += p.numel();
  }
  if (!task.resume_checkpoint.empty()) {
    RETURN_IF_ERROR(Restore(task.resume_checkpoint, &st));
    log(Format("resumed from the checkpoint of round %.0f", static_cast<double>(st.round)));
  }

  // Sizes: total steps over the global training set, then rounds.
  const data::Split* train_split = task.dataset.FindSplit(data.is_text() ? "all" : "train");
  const double global_samples = static_cast<double>(train_split->samples) * (data.is_text() ? 0.9 / cfg.context : 1.0);
  const int64_t total_steps = cfg.steps > 0 ? cfg.steps
                                            : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                                  cfg.epochs * global_samples / static_cast<double>(cfg.batch_size * task.world))));
  const bool diloco = cfg.strategy == scheduler::Strategy::kDiloco;
  const int64_t steps_per_round = diloco ? cfg.inner_steps : cfg.round_steps;
  const uint64_t rounds = static_cast<uint64_t>((total_steps + steps_per_round - 1) / steps_per_round);
  log("training " + cfg.model + ": " + std::to_string(param_count) + " parameters, " + std::to_string(total_steps) +
      " steps in " + std::to_string(rounds) + " rounds, strategy " + scheduler::StrategyName(cfg.strategy) +
      (cfg.compress_int8 ? " with int8 pseudo-gradients" : "") + ", " + std::to_string(task.world) + " rank(s)");

  kernels::AdamWOptions adam;
  adam.lr = cfg.lr;
  adam.weight_decay = cfg.weight_decay;
  std::vector<torch::Tensor> residual;  // int8 error feedback
  if (diloco && cfg.compress_int8) {
    for (auto& p : st.params) residual.push_back(torch::zeros({p.numel()}));
  }
  TrainResult result;
  result.rounds = rounds;
  std::vector<torch::Tensor> grads(st.params.size());

  for (uint64_t round = st.round + 1; round <= rounds; ++round) {
    if (hooks.cancel && hooks.cancel->load()) return CancelledError("training cancelled");
    RoundReport rep;
    rep.round = round;
    rep.rounds = rounds;
    rep.members = task.world;
    rep.start_unix_ms = UnixMillis();
    const auto r0 = Clock::now();
    ASSIGN_OR_RETURN(rep.fingerprint_before, kernels::TensorFingerprint(st.params));
    ChunkCounts used;
    double loss_sum = 0;
    const int64_t first_step = static_cast<int64_t>(round - 1) * steps_per_round;
    const int64_t steps = std::min<int64_t>(steps_per_round, total_steps - first_step);
    for (int64_t s = 0; s < steps; ++s) {
      auto [x, y] = data.Batch(Mix(Mix(Mix(job_seed, round), static_cast<uint64_t>(s)), task.rank), cfg.batch_size, &used);
      for (auto& p : st.params) p.mutable_grad() = torch::Tensor();
      auto logits = model->Forward(x);
      auto loss = torch::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}), y.reshape({-1}));
      loss.backward();
      loss_sum += loss.item<double>();
      for (size_t i = 0; i < st.params.size(); ++i) {
        grads[i] = st.params[i].grad().defined() ? st.params[i].grad() : torch::zeros_like(st.params[i]);
      }
      if (cfg.strategy == scheduler::Strategy::kDdp && pg) {
        torch::Tensor flat = Flatten(grads);
        std::vector<torch::Tensor> v{flat};
        pg->allreduce(v)->wait();
        flat.div_(static_cast<double>(task.world));
        torch::NoGradGuard g;
        Unflatten(flat, grads);
        rep.bytes_sent += static_cast<uint64_t>(2.0 * (task.world - 1) / task.world * flat.numel() * 4);
      }
      torch::NoGradGuard g;
      RETURN_IF_ERROR(kernels::FusedAdamWStep(st.params, grads, st.exp_avg, st.exp_avg_sq, adam, ++st.adam_step));
    }
    if (diloco) {
      torch::NoGradGuard g;
      // Pseudo-gradient: how far this rank moved from the outer parameters.
      std::vector<torch::Tensor> delta;
      for (size_t i = 0; i < st.params.size(); ++i) delta.push_back((st.outer[i] - st.params[i]).reshape({-1}).contiguous());
      if (pg && cfg.compress_int8) {
        for (size_t i = 0; i < delta.size(); ++i) {
          ASSIGN_OR_RETURN(torch::Tensor packed, kernels::QuantizeInt8(delta[i], residual[i]));
          std::vector<std::vector<torch::Tensor>> gathered(1);
          for (uint32_t r = 0; r < task.world; ++r) gathered[0].push_back(torch::empty_like(packed));
          std::vector<torch::Tensor> in{packed};
          pg->allgather(gathered, in)->wait();
          rep.bytes_sent += static_cast<uint64_t>(packed.numel()) * (task.world - 1);
          delta[i].zero_();
          for (const auto& buf : gathered[0]) RETURN_IF_ERROR(kernels::DequantizeAccumulate(buf, delta[i]));
          delta[i].div_(static_cast<double>(task.world));
        }
      } else if (pg) {
        torch::Tensor flat = torch::cat(delta);
        std::vector<torch::Tensor> v{flat};
        pg->allreduce(v)->wait();
        flat.div_(static_cast<double>(task.world));
        rep.bytes_sent += static_cast<uint64_t>(2.0 * (task.world - 1) / task.world * flat.numel() * 4);
        int64_t off = 0;
        for (auto& d : delta) {
          d.copy_(flat.narrow(0, off, d.numel()));
          off += d.numel();
        }
      }
      // Outer Nesterov SGD: buf = mu*buf + d; outer -= lr * (d + mu*buf).
      for (size_t i = 0; i < st.params.size(); ++i) {
        auto d = delta[i].view_as(st.outer[i]);
        st.momentum[i].mul_(cfg.outer_momentum).add_(d);
        st.outer[i].sub_(cfg.outer_lr * (d + cfg.outer_momentum * st.momentum[i]));
        st.params[i].copy_(st.outer[i]);
      }
    }
    st.round = round;
    ASSIGN_OR_RETURN(rep.fingerprint_after, kernels::TensorFingerprint(st.params));
    rep.steps = static_cast<uint32_t>(steps);
    rep.loss = steps > 0 ? loss_sum / static_cast<double>(steps) : 0;
    const double secs = std::chrono::duration<double>(Clock::now() - r0).count();
    rep.samples_per_sec = static_cast<double>(steps * cfg.batch_size) / std::max(secs, 1e-9);
    if (task.rank == 0) rep.eval = Evaluate(*model, data);
    rep.end_unix_ms = UnixMillis();
    const data::Split* split = task.dataset.FindSplit(data.is_text() ? "all" : "train");
    size_t chunk_base = 0;  // global chunk index of the split's first chunk
    for (const auto& s : task.dataset.splits) {
      if (&s == split) break;
      chunk_base += s.chunks.size();
    }
    const Sha256Digest dataset_id = data::DatasetId(task.dataset);
    for (const auto& [chunk, n] : used) rep.consumed.push_back({dataset_id, static_cast<uint32_t>(chunk_base + chunk), n});
    result.bytes_sent += rep.bytes_sent;
    result.final_loss = rep.loss;
    if (task.rank == 0) result.final_eval = rep.eval;
    log(Format("round %.0f/%.0f loss %.4f ", static_cast<double>(round), static_cast<double>(rounds), rep.loss) +
        (task.rank == 0 ? Format(data.is_text() ? "val_loss %.4f " : "test_acc %.4f ", rep.eval) : std::string()) +
        Format("samples/s %.0f sent %.1f KiB", rep.samples_per_sec, rep.bytes_sent / 1024.0));
    if (hooks.on_round) RETURN_IF_ERROR(hooks.on_round(rep));
    if (task.rank == 0 && hooks.on_checkpoint && cfg.checkpoint_every > 0 && round % cfg.checkpoint_every == 0 &&
        round < rounds) {
      ASSIGN_OR_RETURN(std::string bytes, Serialize(st));
      RETURN_IF_ERROR(hooks.on_checkpoint(round, bytes, rep.fingerprint_after));
    }
  }
  ASSIGN_OR_RETURN(result.fingerprint, kernels::TensorFingerprint(st.params));
  if (task.rank == 0) {
    ASSIGN_OR_RETURN(result.torchscript, model->ExportTorchScript());
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

}  // namespace cairn::train
