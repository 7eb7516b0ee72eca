#include "serve/inference_model.h"

#include "serve/chat_template.h"

#include <random>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "serve/text_generation.h"

namespace cairn::serve {
namespace {

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

  StatusOr<Generation> Generate(const std::string& prompt, const GenerateOptions& o, const OnText& on_text) const override {
    return internal::GenerateText(const_cast<torch::jit::Module&>(module_), info_, device_, prompt, o, on_text);
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
      info.chat_template = j.value("chat_template", std::string("roles"));
      if (auto t = ApplyChatTemplate(info.chat_template, {}); !t.ok()) return t.status();
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
