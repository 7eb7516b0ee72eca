#include "train/train_state.h"

#include <sstream>

namespace cairn::train {

void State::CopyTo(State& to) const {
  torch::NoGradGuard g;
  auto copy = [](const std::vector<torch::Tensor>& from, std::vector<torch::Tensor>& dst) {
    for (size_t i = 0; i < from.size(); ++i) dst[i].copy_(from[i]);
  };
  copy(params, to.params);
  copy(exp_avg, to.exp_avg);
  copy(exp_avg_sq, to.exp_avg_sq);
  copy(outer, to.outer);
  copy(momentum, to.momentum);
  copy(residual, to.residual);
  to.adam_step = adam_step;
  to.round = round;
}

State State::Clone() const {
  auto clone = [](const std::vector<torch::Tensor>& ts) {
    std::vector<torch::Tensor> out;
    for (const auto& t : ts) out.push_back(t.detach().clone());
    return out;
  };
  return State{clone(params), clone(exp_avg), clone(exp_avg_sq), clone(outer), clone(momentum), clone(residual),
               adam_step, round};
}

StatusOr<std::string> Serialize(const State& s) {
  try {
    torch::serialize::OutputArchive a;
    a.write("format", torch::tensor(int64_t{1}));
    a.write("round", torch::tensor(static_cast<int64_t>(s.round)));
    a.write("adam_step", torch::tensor(s.adam_step));
    auto put = [&](const std::string& name, const std::vector<torch::Tensor>& ts) {
      a.write(name + "/n", torch::tensor(static_cast<int64_t>(ts.size())));
      for (size_t i = 0; i < ts.size(); ++i) a.write(name + "/" + std::to_string(i), ts[i].detach().to(torch::kCPU));  // loads on either device
    };
    put("params", s.params);
    put("exp_avg", s.exp_avg);
    put("exp_avg_sq", s.exp_avg_sq);
    put("outer", s.outer);
    put("momentum", s.momentum);
    put("residual", s.residual);
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
    RETURN_IF_ERROR(get("momentum", s->momentum));
    return get("residual", s->residual);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("checkpoint does not load: ") + e.what());
  }
}

namespace {

constexpr char kStateMagic[] = "CST2";

void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetU64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  return v;
}
std::vector<const std::vector<torch::Tensor>*> Groups(const State& s, StateParts parts) {
  std::vector<const std::vector<torch::Tensor>*> g = {&s.params, &s.exp_avg, &s.exp_avg_sq};
  if (parts.outer) g.insert(g.end(), {&s.outer, &s.momentum});
  if (parts.residual) g.push_back(&s.residual);
  return g;
}
// The f32 values of a CPU tensor (contiguous; a copy only when it is not).
torch::Tensor Values(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat).contiguous(); }

}  // namespace

std::string EncodeState(const State& s, StateParts parts) {
  size_t total = 4 + 1 + 16;
  for (const auto* g : Groups(s, parts)) {
    total += 4;
    for (const auto& t : *g) total += 8 + static_cast<size_t>(t.numel()) * 4;
  }
  std::string out;
  out.reserve(total);
  out += kStateMagic;
  out.push_back(static_cast<char>(parts.bits()));
  PutU64(out, s.round);
  PutU64(out, static_cast<uint64_t>(s.adam_step));
  for (const auto* g : Groups(s, parts)) {
    const uint32_t n = static_cast<uint32_t>(g->size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    for (const auto& t : *g) {
      torch::Tensor v = Values(t);
      PutU64(out, static_cast<uint64_t>(v.numel()));
      out.append(reinterpret_cast<const char*>(v.data_ptr<float>()), static_cast<size_t>(v.numel()) * 4);
    }
  }
  return out;
}

Status DecodeState(std::string_view in, StateParts parts, State* s) {
  if (in.size() < 21 || in.substr(0, 4) != kStateMagic) return InvalidArgumentError("state: not canonical state bytes (magic CST2)");
  if (static_cast<uint8_t>(in[4]) != parts.bits()) {
    return InvalidArgumentError("state: holds parts " + std::to_string(static_cast<uint8_t>(in[4])) + ", this job's strategy uses " +
                                std::to_string(parts.bits()));
  }
  size_t at = 5;
  const uint64_t round = GetU64(in, at);
  const int64_t adam_step = static_cast<int64_t>(GetU64(in, at + 8));
  at += 16;
  std::vector<const char*> names = {"params", "exp_avg", "exp_avg_sq"};
  std::vector<std::vector<torch::Tensor>*> groups = {&s->params, &s->exp_avg, &s->exp_avg_sq};
  if (parts.outer) {
    names.insert(names.end(), {"outer", "momentum"});
    groups.insert(groups.end(), {&s->outer, &s->momentum});
  }
  if (parts.residual) {
    names.push_back("residual");
    groups.push_back(&s->residual);
  }
  // Check every size before changing anything.
  size_t scan = at;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    if (scan + 4 > in.size()) return InvalidArgumentError(std::string("state: truncated before ") + names[gi]);
    uint32_t n = 0;
    for (int i = 3; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(in[scan + static_cast<size_t>(i)]);
    scan += 4;
    if (n != groups[gi]->size()) {
      return InvalidArgumentError(std::string("state: ") + names[gi] + " holds " + std::to_string(n) + " tensors; this model has " +
                                  std::to_string(groups[gi]->size()));
    }
    for (const auto& t : *groups[gi]) {
      if (scan + 8 > in.size()) return InvalidArgumentError(std::string("state: truncated in ") + names[gi]);
      const uint64_t count = GetU64(in, scan);
      if (count != static_cast<uint64_t>(t.numel())) return InvalidArgumentError(std::string("state: ") + names[gi] + " sizes differ from the model");
      scan += 8;
      if (in.size() - scan < count * 4) return InvalidArgumentError(std::string("state: truncated in ") + names[gi]);
      scan += count * 4;
    }
  }
  if (scan != in.size()) return InvalidArgumentError("state: " + std::to_string(in.size() - scan) + " bytes after the last tensor");
  torch::NoGradGuard g;
  for (auto* group : groups) {
    at += 4;
    for (auto& t : *group) {
      const uint64_t count = GetU64(in, at);
      at += 8;
      auto src = torch::from_blob(const_cast<char*>(in.data() + at), {static_cast<int64_t>(count)}, torch::kFloat);
      t.copy_(src.view_as(t));
      at += count * 4;
    }
  }
  s->round = round;
  s->adam_step = adam_step;
  return OkStatus();
}

Sha256Digest OptimizerHash(const State& s, StateParts parts) {
  Sha256Hasher h;
  h.Update("cairn-optimizer-v1");
  std::string step;
  PutU64(step, static_cast<uint64_t>(s.adam_step));
  h.Update(step);
  std::vector<const std::vector<torch::Tensor>*> groups = {&s.exp_avg, &s.exp_avg_sq};
  if (parts.residual) groups.push_back(&s.residual);
  for (const auto* g : groups) {
    for (const auto& t : *g) {
      torch::Tensor v = Values(t);
      h.Update(v.data_ptr<float>(), static_cast<size_t>(v.numel()) * 4);
    }
  }
  return h.Finish();
}

}  // namespace cairn::train
