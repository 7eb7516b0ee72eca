#include "serve/inference_model.h"

#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

namespace cairn::serve {
namespace {

// Bytes a UTF-8 sequence starting with `lead` has (1 for an invalid lead: it
// is passed on as is, and JSON encoding replaces it).
size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// How many bytes at the end of `s` are an unfinished UTF-8 character.
size_t IncompleteTail(const std::string& s) {
  for (size_t back = 1; back <= std::min<size_t>(3, s.size()); ++back) {
    const unsigned char c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = Utf8Length(c);
    return need > back ? back : 0;
  }
  return 0;
}

class TorchScriptModel : public InferenceModel {
 public:
  TorchScriptModel(torch::jit::Module m, ModelInfo info, torch::Device device)
      : module_(std::move(m)), info_(std::move(info)), device_(device) {}
  const ModelInfo& info() const override { return info_; }

  StatusOr<FloatTensor> Forward(const FloatTensor& in) const override {
    if (in.shape.empty() || in.shape[0] < 1) return InvalidArgumentError("the input needs a batch dimension of at least 1");
    int64_t count = 1;
    for (int64_t d : in.shape) {
      if (d < 1) return InvalidArgumentError("input dimensions must be positive");
      count *= d;
    }
    if (count != static_cast<int64_t>(in.data.size())) {
      return InvalidArgumentError("shape " + ShapeText(in.shape) + " holds " + std::to_string(count) + " values, data has " +
                                  std::to_string(in.data.size()));
    }
    std::vector<int64_t> shape = in.shape;
    if (!info_.input_shape.empty()) {
      int64_t per = 1;
      for (int64_t d : info_.input_shape) per *= d;
      if (count / in.shape[0] != per) {
        return InvalidArgumentError("each example must have shape " + ShapeText(info_.input_shape) + " (" + std::to_string(per) +
                                    " values), got " + ShapeText(in.shape));
      }
      shape = {in.shape[0]};
      shape.insert(shape.end(), info_.input_shape.begin(), info_.input_shape.end());
    }
    try {
      c10::InferenceMode guard;
      auto x = torch::from_blob(const_cast<float*>(in.data.data()), shape, torch::kFloat32).to(device_);
      auto y = const_cast<torch::jit::Module&>(module_).forward({x}).toTensor().to(torch::kCPU, torch::kFloat32).contiguous();
      FloatTensor out;
      out.shape.assign(y.sizes().begin(), y.sizes().end());
      out.data.assign(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
      return out;
    } catch (const std::exception& e) {
      std::string what = e.what();
      return InvalidArgumentError("the model refused the input: " + what.substr(0, what.find('\n')));
    }
  }

  StatusOr<Generation> Generate(const std::string& prompt, const GenerateOptions& o,
                                const std::function<bool(const std::string&)>& on_text) const override {
    if (info_.task != ModelTask::kTextGeneration) return FailedPreconditionError("this model does not generate text");
    if (o.max_tokens < 0) return InvalidArgumentError("max_tokens must be >= 0");
    if (o.temperature < 0) return InvalidArgumentError("temperature must be >= 0");
    if (o.top_p <= 0 || o.top_p > 1) return InvalidArgumentError("top_p must be in (0, 1]");
    Generation g;
    std::vector<int64_t> tokens;
    for (unsigned char c : prompt) tokens.push_back(c);
    g.prompt_tokens = static_cast<int64_t>(tokens.size());
    if (tokens.empty()) tokens.push_back('\n');
    at::Generator gen = at::detail::createCPUGenerator(o.seed ? *o.seed : std::random_device{}());
    std::string text;
    size_t emitted = 0;
    g.finish_reason = "length";
    bool stopped_by_caller = false;
    auto emit = [&](size_t upto) {
      if (upto > emitted && on_text && !stopped_by_caller) {
        if (!on_text(text.substr(emitted, upto - emitted))) stopped_by_caller = true;
      }
      emitted = std::max(emitted, upto);
    };
    try {
      c10::InferenceMode guard;
      for (int64_t i = 0; i < o.max_tokens && !stopped_by_caller; ++i) {
        const size_t start = tokens.size() > static_cast<size_t>(info_.context) ? tokens.size() - info_.context : 0;
        auto x = torch::tensor(std::vector<int64_t>(tokens.begin() + static_cast<std::ptrdiff_t>(start), tokens.end()),
                               torch::kLong)
                     .unsqueeze(0)
                     .to(device_);
        // Sampling stays on the CPU, with the request's own generator.
        auto logits =
            const_cast<torch::jit::Module&>(module_).forward({x}).toTensor()[0][-1].to(torch::kCPU, torch::kFloat32);
        int64_t next;
        if (o.temperature == 0) {
          next = logits.argmax().item<int64_t>();
        } else {
          auto probs = torch::softmax(logits / o.temperature, -1);
          if (o.top_p < 1) {
            auto [sorted, order] = probs.sort(-1, /*descending=*/true);
            auto cum = sorted.cumsum(-1);
            sorted.masked_fill_((cum - sorted) > o.top_p, 0);  // keep the smallest set reaching top_p
            probs = torch::zeros_like(probs).scatter(0, order, sorted);
          }
          next = torch::multinomial(probs, 1, false, gen).item<int64_t>();
        }
        tokens.push_back(next);
        text.push_back(static_cast<char>(next));
        ++g.completion_tokens;
        // A stop sequence ends the text before it; text that could still
        // become one is held back from the stream.
        size_t cut = std::string::npos;
        for (const auto& s : o.stop) {
          if (s.empty()) continue;
          const size_t at = text.find(s, emitted >= s.size() ? emitted - s.size() : 0);
          if (at != std::string::npos) cut = std::min(cut, at);
        }
        if (cut != std::string::npos) {
          text.resize(cut);
          g.finish_reason = "stop";
          break;
        }
        size_t hold = IncompleteTail(text);
        for (const auto& s : o.stop) {
          if (s.empty()) continue;
          for (size_t k = std::min(s.size() - 1, text.size()); k > hold; --k) {
            if (text.compare(text.size() - k, k, s, 0, k) == 0) {
              hold = k;
              break;
            }
          }
        }
        emit(text.size() - hold);
      }
    } catch (const std::exception& e) {
      std::string what = e.what();
      return InternalError("generation failed: " + what.substr(0, what.find('\n')));
    }
    emit(text.size());
    g.text = std::move(text);
    return g;
  }

  static std::string ShapeText(const std::vector<int64_t>& s) {
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
  }

 private:
  torch::jit::Module module_;
  ModelInfo info_;
  torch::Device device_;
};

StatusOr<ModelInfo> ParseMeta(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("task") || !j["task"].is_string()) return InvalidArgumentError("cairn_meta() is not a JSON object with a task");
  ModelInfo info;
  const std::string task = j["task"];
  try {
    if (task == "image-classification") {
      info.task = ModelTask::kImageClassification;
      info.input_shape = j.at("input").get<std::vector<int64_t>>();
      info.classes = j.at("classes").get<int64_t>();
    } else if (task == "text-generation") {
      info.task = ModelTask::kTextGeneration;
      info.context = j.at("context").get<int64_t>();
      info.vocab = j.value("vocab", int64_t{256});
      if (info.context < 1) return InvalidArgumentError("text models must have context >= 1");
      if (info.vocab != 256) {
        return InvalidArgumentError("serving generates text with byte-level models only (vocab 256); this one has vocab " +
                                    std::to_string(info.vocab) + " (a tokens-u16 model needs its tokenizer, which cairn does not have)");
      }
    } else {
      return InvalidArgumentError("cairn_meta() names an unknown task '" + task + "'");
    }
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("cairn_meta() is malformed: ") + e.what());
  }
  for (int64_t d : info.input_shape) {
    if (d < 1) return InvalidArgumentError("cairn_meta() input dimensions must be positive");
  }
  return info;
}

}  // namespace

const char* ModelTaskName(ModelTask t) {
  switch (t) {
    case ModelTask::kImageClassification: return "image-classification";
    case ModelTask::kTextGeneration: return "text-generation";
    case ModelTask::kTensor: return "tensor";
  }
  return "?";
}

StatusOr<ServeDevice> ParseServeDevice(const std::string& name) {
  if (name == "auto") return ServeDevice::kAuto;
  if (name == "cpu") return ServeDevice::kCpu;
  if (name == "cuda") return ServeDevice::kCuda;
  return InvalidArgumentError("device '" + name + "': must be auto, cpu or cuda");
}

StatusOr<std::unique_ptr<InferenceModel>> InferenceModel::Load(const std::string& torchscript, ServeDevice want) {
  const bool cuda = torch::cuda::is_available();
  if (want == ServeDevice::kCuda && !cuda) return FailedPreconditionError("device cuda: LibTorch sees no CUDA device here");
  const torch::Device device = want != ServeDevice::kCpu && cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  torch::jit::Module m;
  try {
    std::istringstream in(torchscript);
    m = torch::jit::load(in, device);
    m.eval();
  } catch (const std::exception& e) {
    std::string what = e.what();
    return InvalidArgumentError("not a loadable TorchScript module: " + what.substr(0, what.find('\n')));
  }
  ModelInfo info;
  if (m.find_method("cairn_meta")) {
    std::string meta;
    try {
      meta = m.run_method("cairn_meta").toStringRef();
    } catch (const std::exception& e) {
      return InvalidArgumentError(std::string("cairn_meta() failed: ") + e.what());
    }
    ASSIGN_OR_RETURN(info, ParseMeta(meta));
  }
  info.device = device.str();
  return std::unique_ptr<InferenceModel>(new TorchScriptModel(std::move(m), std::move(info), device));
}

}  // namespace cairn::serve
