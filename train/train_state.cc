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
      for (size_t i = 0; i < ts.size(); ++i) a.write(name + "/" + std::to_string(i), ts[i].detach());
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

}  // namespace cairn::train
