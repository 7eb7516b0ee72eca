#include "train/train_config.h"

#include "train/aggregate.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace cairn::train {
namespace {

Status Number(const std::string& key, const std::string& v, double lo, double hi, double* out) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || !(d >= lo && d <= hi)) {
    std::ostringstream ss;
    ss << key << ": must be a number from " << lo << " to " << hi << ", got '" << v << "'";
    return InvalidArgumentError(ss.str());
  }
  *out = d;
  return OkStatus();
}

Status Integer(const std::string& key, const std::string& v, int64_t lo, int64_t hi, int64_t* out) {
  double d = 0;
  RETURN_IF_ERROR(Number(key, v, static_cast<double>(lo), static_cast<double>(hi), &d));
  if (d != static_cast<double>(static_cast<int64_t>(d))) return InvalidArgumentError(key + ": must be an integer, got '" + v + "'");
  *out = static_cast<int64_t>(d);
  return OkStatus();
}

}  // namespace

StatusOr<TrainConfig> ConfigFromSpec(const jobspec::JobSpec& spec) {
  TrainConfig c;
  c.model = spec.torchscript_path.empty() ? spec.model : "torchscript";
  c.torchscript_path = spec.torchscript_path;
  if (c.model != "mlp" && c.model != "cnn" && c.model != "char-gpt" && c.model != "torchscript") {
    return InvalidArgumentError("model: unknown built-in '" + c.model + "' (mlp, cnn, char-gpt, or {torchscript: FILE})");
  }
  c.strategy = spec.strategy;
  if (!spec.output_chat_template.empty()) {
    if (c.model != "char-gpt") return InvalidArgumentError("output.chat_template: only text models (char-gpt) chat");
    c.chat_template = spec.output_chat_template;
  }
  c.checkpoint_every = spec.checkpoint_every;
  if (c.model == "char-gpt") c.lr = 1e-3, c.batch_size = 32;
  for (const auto& [key, value] : spec.hyperparameters) {
    const std::string k = "hyperparameters." + key;
    int64_t i = 0;
    if (key == "lr") {
      RETURN_IF_ERROR(Number(k, value, 0, 10, &c.lr));
    } else if (key == "lr_schedule") {
      if (value != "cosine" && value != "constant") return InvalidArgumentError(k + ": must be cosine or constant");
      c.cosine = value == "cosine";
    } else if (key == "warmup_steps") {
      RETURN_IF_ERROR(Integer(k, value, 0, int64_t{1} << 40, &c.warmup_steps));
    } else if (key == "weight_decay") {
      RETURN_IF_ERROR(Number(k, value, 0, 1, &c.weight_decay));
    } else if (key == "batch_size") {
      RETURN_IF_ERROR(Integer(k, value, 1, 1 << 16, &c.batch_size));
    } else if (key == "epochs") {
      RETURN_IF_ERROR(Number(k, value, 0.001, 10000, &c.epochs));
    } else if (key == "steps") {
      RETURN_IF_ERROR(Integer(k, value, 1, int64_t{1} << 40, &c.steps));
    } else if (key == "round_steps") {
      RETURN_IF_ERROR(Integer(k, value, 1, 1 << 30, &c.round_steps));
    } else if (key == "seed") {
      RETURN_IF_ERROR(Integer(k, value, 0, int64_t{1} << 53, &i));
      c.seed = static_cast<uint64_t>(i);
    } else if (key == "deterministic") {
      if (value != "true" && value != "false") return InvalidArgumentError(k + ": must be true or false");
      c.deterministic = value == "true";
    } else if (key == "precision") {
      if (value != "fp32" && value != "bf16") return InvalidArgumentError(k + ": must be fp32 or bf16, got '" + value + "'");
      c.bf16 = value == "bf16";
    } else if (key == "hidden") {
      c.hidden.clear();
      std::stringstream ss(value);
      std::string part;
      while (std::getline(ss, part, ',')) {
        RETURN_IF_ERROR(Integer(k, part, 1, 1 << 16, &i));
        c.hidden.push_back(i);
      }
    } else if (key == "layers") {
      RETURN_IF_ERROR(Integer(k, value, 1, 64, &c.layers));
    } else if (key == "heads") {
      RETURN_IF_ERROR(Integer(k, value, 1, 64, &c.heads));
    } else if (key == "width") {
      RETURN_IF_ERROR(Integer(k, value, 8, 8192, &c.width));
    } else if (key == "context") {
      RETURN_IF_ERROR(Integer(k, value, 2, 8192, &c.context));
    } else if (key == "vocab") {
      RETURN_IF_ERROR(Integer(k, value, 2, 65536, &c.vocab));
    } else if (key == "dropout") {
      RETURN_IF_ERROR(Number(k, value, 0, 0.9, &c.dropout));
    } else {
      return InvalidArgumentError(k + ": unknown hyperparameter (see docs/training.md)");
    }
  }
  if (c.width % c.heads != 0) return InvalidArgumentError("hyperparameters.width must be a multiple of heads");
  c.device = spec.device;
  c.gpus = spec.device == jobspec::Device::kCuda ? std::max<uint32_t>(1, spec.gpus) : 1;
  if (c.bf16 && c.device != jobspec::Device::kCuda) {
    return InvalidArgumentError("hyperparameters.precision: bf16 autocast needs resources.device: cuda");
  }
  for (const auto& [key, value] : spec.strategy_options) {
    const std::string k = "strategy.diloco." + key;
    if (key == "inner_steps") {
      RETURN_IF_ERROR(Integer(k, value, 1, 1 << 20, &c.inner_steps));
    } else if (key == "outer_lr") {
      RETURN_IF_ERROR(Number(k, value, 0, 10, &c.outer_lr));
    } else if (key == "outer_momentum") {
      RETURN_IF_ERROR(Number(k, value, 0, 0.999, &c.outer_momentum));
    } else if (key == "compress") {
      if (value != "int8" && value != "none") return InvalidArgumentError(k + ": must be int8 or none");
      c.compress_int8 = value == "int8";
    } else if (key == "aggregate") {
      auto a = ParseAggregate(value);
      if (!a.ok()) return InvalidArgumentError(k + ": " + std::string(a.status().message()));
      c.aggregate = *a;
    } else {
      return InvalidArgumentError(k + ": unknown option (inner_steps, outer_lr, outer_momentum, compress, aggregate)");
    }
  }
  c.chain_every = spec.verify.on ? spec.verify.chain_every : 0;  // 0: no commitments (nobody replays)
  return c;
}

double LearningRateAt(const TrainConfig& cfg, int64_t t, int64_t total) {
  if (cfg.warmup_steps > 0 && t <= cfg.warmup_steps) return cfg.lr * static_cast<double>(t) / static_cast<double>(cfg.warmup_steps);
  if (!cfg.cosine) return cfg.lr;
  const int64_t after = t - cfg.warmup_steps, span = total - cfg.warmup_steps;
  const double progress = std::min(1.0, static_cast<double>(after - 1) / static_cast<double>(std::max<int64_t>(1, span - 1)));
  return cfg.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace cairn::train
