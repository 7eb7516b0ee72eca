// Built-in models and their TorchScript export (see models.h).
#include "train/models.h"

#include <map>
#include <sstream>

namespace cairn::train {
namespace {

// Registers `params` (name -> tensor) on a scripted module and compiles
// `source`; returns the saved bytes.
// `meta`: a JSON object the module returns from cairn_meta(), so a server
// knows how to feed it without the job that trained it (serve/).
StatusOr<std::string> Script(const std::vector<std::pair<std::string, torch::Tensor>>& params, const std::string& source,
                             const std::string& meta) {
  try {
    torch::jit::Module m("cairn_model");
    for (const auto& [name, t] : params) m.register_parameter(name, t.detach().clone(), /*is_buffer=*/false);
    m.define(source);
    m.define("def cairn_meta(self) -> str:\n    return '" + meta + "'\n");
    std::ostringstream out;
    m.save(out);
    return out.str();
  } catch (const std::exception& e) {
    return InternalError(std::string("TorchScript export failed: ") + e.what());
  }
}

std::string Flat(const std::string& dotted) {
  std::string s = dotted;
  for (char& c : s) if (c == '.') c = '_';
  return s;
}

std::vector<std::pair<std::string, torch::Tensor>> NamedParams(torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(Flat(p.key()), p.value());
  return out;
}

// ---- mlp: flatten, then Linear+ReLU per hidden width, then Linear.
std::string ImageMeta(const ModelShape& s) {
  return "{\"task\": \"image-classification\", \"input\": [" + std::to_string(s.channels) + ", " + std::to_string(s.rows) +
         ", " + std::to_string(s.cols) + "], \"classes\": " + std::to_string(s.classes) + "}";
}

struct Mlp : Model, torch::nn::Module {
  Mlp(const std::vector<int64_t>& hidden, const ModelShape& s) : shape(s) {
    int64_t in = s.channels * s.rows * s.cols;
    for (size_t i = 0; i < hidden.size(); ++i) {
      layers.push_back(register_module("fc" + std::to_string(i), torch::nn::Linear(in, hidden[i])));
      in = hidden[i];
    }
    layers.push_back(register_module("fc" + std::to_string(hidden.size()), torch::nn::Linear(in, s.classes)));
  }
  torch::Tensor Forward(const torch::Tensor& x) override {
    torch::Tensor h = x.flatten(1);
    for (size_t i = 0; i + 1 < layers.size(); ++i) h = torch::relu(layers[i]->forward(h));
    return layers.back()->forward(h);
  }
  std::vector<torch::Tensor> Parameters() override { return parameters(); }
  std::vector<std::pair<std::string, torch::Tensor>> NamedParameters() override { return NamedParams(*this); }
  void Train(bool on) override { train(on); }
  void To(const torch::Device& d) override { to(d); }
  Task task() const override { return Task::kImageClassification; }
  StatusOr<std::string> ExportTorchScript() override {
    std::ostringstream src;
    src << "def forward(self, x: Tensor) -> Tensor:\n    h = x.flatten(1)\n";
    for (size_t i = 0; i < layers.size(); ++i) {
      src << "    h = torch.linear(h, self.fc" << i << "_weight, self.fc" << i << "_bias)\n";
      if (i + 1 < layers.size()) src << "    h = torch.relu(h)\n";
    }
    src << "    return h\n";
    return Script(NamedParams(*this), src.str(), ImageMeta(shape));
  }
  ModelShape shape;
  std::vector<torch::nn::Linear> layers;
};

// ---- cnn: two 3x3 conv + ReLU + 2x2 max-pool stages, then two Linear.
struct Cnn : Model, torch::nn::Module {
  explicit Cnn(const ModelShape& s)
      : shape(s),
        conv1(register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(s.channels, 32, 3).padding(1)))),
        conv2(register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)))),
        fc1(register_module("fc1", torch::nn::Linear(64 * (s.rows / 4) * (s.cols / 4), 128))),
        fc2(register_module("fc2", torch::nn::Linear(128, s.classes))) {}
  torch::Tensor Forward(const torch::Tensor& x) override {
    torch::Tensor h = torch::max_pool2d(torch::relu(conv1->forward(x)), 2);
    h = torch::max_pool2d(torch::relu(conv2->forward(h)), 2);
    return fc2->forward(torch::relu(fc1->forward(h.flatten(1))));
  }
  std::vector<torch::Tensor> Parameters() override { return parameters(); }
  std::vector<std::pair<std::string, torch::Tensor>> NamedParameters() override { return NamedParams(*this); }
  void Train(bool on) override { train(on); }
  void To(const torch::Device& d) override { to(d); }
  Task task() const override { return Task::kImageClassification; }
  StatusOr<std::string> ExportTorchScript() override {
    return Script(NamedParams(*this), R"(
def forward(self, x: Tensor) -> Tensor:
    h = torch.max_pool2d(torch.relu(torch.conv2d(x, self.conv1_weight, self.conv1_bias, [1, 1], [1, 1])), [2, 2])
    h = torch.max_pool2d(torch.relu(torch.conv2d(h, self.conv2_weight, self.conv2_bias, [1, 1], [1, 1])), [2, 2])
    h = torch.relu(torch.linear(h.flatten(1), self.fc1_weight, self.fc1_bias))
    return torch.linear(h, self.fc2_weight, self.fc2_bias)
)", ImageMeta(shape));
  }
  ModelShape shape;
  torch::nn::Conv2d conv1, conv2;
  torch::nn::Linear fc1, fc2;
};

// ---- char-gpt: GPT-2-style pre-norm decoder over bytes (vocab 256) or
// tokens-u16 ids (vocab from the config).
struct CharGpt : Model, torch::nn::Module {
  CharGpt(const TrainConfig& c)
      : layers(c.layers), heads(c.heads), width(c.width), context(c.context), vocab(c.vocab), dropout(c.dropout),
        chat_template(c.chat_template),
        wte(register_module("wte", torch::nn::Embedding(c.vocab, c.width))),
        wpe(register_module("wpe", torch::nn::Embedding(c.context, c.width))),
        ln_f(register_module("ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.width})))),
        head(register_module("head", torch::nn::Linear(torch::nn::LinearOptions(c.width, c.vocab).bias(false)))) {
    for (int64_t i = 0; i < layers; ++i) {
      const std::string p = "h" + std::to_string(i) + "_";
      ln1.push_back(register_module(p + "ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}))));
      attn.push_back(register_module(p + "attn", torch::nn::Linear(width, 3 * width)));
      proj.push_back(register_module(p + "proj", torch::nn::Linear(width, width)));
      ln2.push_back(register_module(p + "ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}))));
      fc.push_back(register_module(p + "fc", torch::nn::Linear(width, 4 * width)));
      fc_out.push_back(register_module(p + "fcout", torch::nn::Linear(4 * width, width)));
    }
    // GPT-2 init: N(0, 0.02), residual projections scaled by 1/sqrt(2L).
    torch::NoGradGuard g;
    for (auto& p : named_parameters()) {
      if (p.key().find("weight") != std::string::npos && p.value().dim() == 2) {
        const bool residual = p.key().find("proj") != std::string::npos || p.key().find("fcout") != std::string::npos;
        p.value().normal_(0.0, residual ? 0.02 / std::sqrt(2.0 * layers) : 0.02);
      } else if (p.key().find("bias") != std::string::npos) {
        p.value().zero_();
      }
    }
  }
  torch::Tensor Forward(const torch::Tensor& idx) override {
    const int64_t B = idx.size(0), T = idx.size(1), hd = width / heads;
    auto pos = torch::arange(T, torch::TensorOptions().dtype(torch::kLong).device(idx.device()));
    torch::Tensor x = wte->forward(idx) + wpe->forward(pos);
    auto mask = torch::ones({T, T}, torch::TensorOptions().dtype(torch::kBool).device(idx.device())).tril();
    for (int64_t i = 0; i < layers; ++i) {
      auto qkv = attn[i]->forward(ln1[i]->forward(x)).split(width, 2);
      auto q = qkv[0].view({B, T, heads, hd}).transpose(1, 2);
      auto k = qkv[1].view({B, T, heads, hd}).transpose(1, 2);
      auto v = qkv[2].view({B, T, heads, hd}).transpose(1, 2);
      auto att = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(hd)));
      att = torch::softmax(att.masked_fill(mask.logical_not(), -1e9), -1);
      if (dropout > 0) att = torch::dropout(att, dropout, is_training());
      auto y = torch::matmul(att, v).transpose(1, 2).contiguous().view({B, T, width});
      x = x + torch::dropout(proj[i]->forward(y), dropout, is_training() && dropout > 0);
      x = x + torch::dropout(fc_out[i]->forward(torch::gelu(fc[i]->forward(ln2[i]->forward(x)))), dropout,
                             is_training() && dropout > 0);
    }
    return head->forward(ln_f->forward(x));
  }
  std::vector<torch::Tensor> Parameters() override { return parameters(); }
  std::vector<std::pair<std::string, torch::Tensor>> NamedParameters() override { return NamedParams(*this); }
  void Train(bool on) override { train(on); }
  void To(const torch::Device& d) override { to(d); }
  Task task() const override { return Task::kLanguageModel; }
  StatusOr<std::string> ExportTorchScript() override {
    std::ostringstream src;
    src << "def forward(self, idx: Tensor) -> Tensor:\n"
        << "    B = idx.size(0)\n    T = idx.size(1)\n"
        << "    pos = torch.arange(T, device=idx.device)\n"
        << "    x = torch.embedding(self.wte_weight, idx) + torch.embedding(self.wpe_weight, pos)\n"
        << "    mask = torch.tril(torch.ones([T, T], device=idx.device)) == 0\n";
    const int64_t hd = width / heads;
    for (int64_t i = 0; i < layers; ++i) {
      const std::string p = "self.h" + std::to_string(i) + "_";
      src << "    h = torch.layer_norm(x, [" << width << "], " << p << "ln1_weight, " << p << "ln1_bias)\n"
          << "    qkv = torch.linear(h, " << p << "attn_weight, " << p << "attn_bias).split(" << width << ", 2)\n"
          << "    q = qkv[0].view([B, T, " << heads << ", " << hd << "]).transpose(1, 2)\n"
          << "    k = qkv[1].view([B, T, " << heads << ", " << hd << "]).transpose(1, 2)\n"
          << "    v = qkv[2].view([B, T, " << heads << ", " << hd << "]).transpose(1, 2)\n"
          << "    att = torch.matmul(q, k.transpose(-2, -1)) * " << 1.0 / std::sqrt(static_cast<double>(hd)) << "\n"
          << "    att = torch.softmax(att.masked_fill(mask, -1e9), -1)\n"
          << "    y = torch.matmul(att, v).transpose(1, 2).contiguous().view([B, T, " << width << "])\n"
          << "    x = x + torch.linear(y, " << p << "proj_weight, " << p << "proj_bias)\n"
          << "    h = torch.layer_norm(x, [" << width << "], " << p << "ln2_weight, " << p << "ln2_bias)\n"
          << "    h = torch.gelu(torch.linear(h, " << p << "fc_weight, " << p << "fc_bias))\n"
          << "    x = x + torch.linear(h, " << p << "fcout_weight, " << p << "fcout_bias)\n";
    }
    src << "    x = torch.layer_norm(x, [" << width << "], self.ln_f_weight, self.ln_f_bias)\n"
        << "    return torch.linear(x, self.head_weight)\n";
    return Script(NamedParams(*this), src.str(),
                  "{\"task\": \"text-generation\", \"vocab\": " + std::to_string(vocab) + ", \"context\": " +
                      std::to_string(context) + ", \"chat_template\": \"" + chat_template + "\"}");
  }
  int64_t layers, heads, width, context, vocab;
  double dropout;
  std::string chat_template;  // a name from serve/chat_template.h (checked by ConfigFromSpec)
  torch::nn::Embedding wte, wpe;
  torch::nn::LayerNorm ln_f;
  torch::nn::Linear head;
  std::vector<torch::nn::LayerNorm> ln1, ln2;
  std::vector<torch::nn::Linear> attn, proj, fc, fc_out;
};

// ---- a user's TorchScript module; its forward returns logits.
struct Scripted : Model {
  explicit Scripted(torch::jit::Module m, Task t) : module(std::move(m)), kind(t) {
    for (const auto& p : module.parameters()) p.set_requires_grad(true);  // saved modules may hold frozen ones
  }
  torch::Tensor Forward(const torch::Tensor& x) override { return module.forward({x}).toTensor(); }
  std::vector<torch::Tensor> Parameters() override {
    std::vector<torch::Tensor> out;
    for (const auto& p : module.parameters()) out.push_back(p);
    return out;
  }
  std::vector<std::pair<std::string, torch::Tensor>> NamedParameters() override {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : module.named_parameters()) out.emplace_back(p.name, p.value);
    return out;
  }
  void Train(bool on) override { module.train(on); }
  void To(const torch::Device& d) override { module.to(d); }
  Task task() const override { return kind; }
  StatusOr<std::string> ExportTorchScript() override {
    std::ostringstream out;
    module.save(out);
    return out.str();
  }
  torch::jit::Module module;
  Task kind;
};

}  // namespace

Status InitFromTorchScript(Model& model, const std::string& torchscript) {
  try {
    std::istringstream in(torchscript);
    torch::jit::Module parent = torch::jit::load(in);
    std::map<std::string, torch::Tensor> by_name;
    for (const auto& p : parent.named_parameters()) by_name[p.name] = p.value;
    torch::NoGradGuard g;
    for (auto& [name, t] : model.NamedParameters()) {
      auto it = by_name.find(name);
      if (it == by_name.end()) return InvalidArgumentError("parent model has no parameter " + name);
      if (!it->second.sizes().equals(t.sizes())) {
        return InvalidArgumentError("parent model's " + name + " has another shape (a different architecture?)");
      }
      t.copy_(it->second);
    }
    return OkStatus();
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("parent model does not load: ") + e.what());
  }
}

StatusOr<std::unique_ptr<Model>> BuildModel(const TrainConfig& config, const ModelShape& shape) {
  if (config.model == "mlp") return std::unique_ptr<Model>(std::make_unique<Mlp>(config.hidden, shape));
  if (config.model == "cnn") return std::unique_ptr<Model>(std::make_unique<Cnn>(shape));
  if (config.model == "char-gpt") return std::unique_ptr<Model>(std::make_unique<CharGpt>(config));
  if (config.model == "torchscript") {
    try {
      torch::jit::Module m = torch::jit::load(config.torchscript_path);
      // Text models take int64 token ids; image models float pixels. A
      // user module says which by an attribute `cairn_task` = "lm" or not.
      Task t = m.hasattr("cairn_task") && m.attr("cairn_task").toStringRef() == "lm" ? Task::kLanguageModel
                                                                                      : Task::kImageClassification;
      return std::unique_ptr<Model>(std::make_unique<Scripted>(std::move(m), t));
    } catch (const std::exception& e) {
      return InvalidArgumentError("model.torchscript: cannot load " + config.torchscript_path + ": " + e.what());
    }
  }
  return InvalidArgumentError("unknown model " + config.model);
}

}  // namespace cairn::train
