#include "serve/batcher.h"

#include <algorithm>
#include <future>

namespace cairn::serve {

struct Batcher::Pending {
  FloatTensor input;
  std::promise<StatusOr<FloatTensor>> done;
};

Batcher::Batcher(std::shared_ptr<const InferenceModel> model, int64_t max_batch)
    : model_(std::move(model)), max_batch_(std::max<int64_t>(1, max_batch)), thread_([this] { Loop(); }) {}

Batcher::~Batcher() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  queued_.SignalAll();
  thread_.join();
}

StatusOr<FloatTensor> Batcher::Run(FloatTensor input) {
  if (input.shape.empty() || input.shape[0] < 1) return InvalidArgumentError("the input needs a batch dimension of at least 1");
  auto p = std::make_shared<Pending>();
  p->input = std::move(input);
  auto result = p->done.get_future();
  {
    MutexLock l(&mu_);
    if (stop_) return UnavailableError("the model is shutting down");
    queue_.push_back(p);
    ++stats_.requests;
  }
  queued_.Signal();
  return result.get();
}

BatcherStats Batcher::stats() const {
  MutexLock l(&mu_);
  return stats_;
}

void Batcher::Loop() {
  while (true) {
    std::vector<std::shared_ptr<Pending>> batch;
    {
      MutexLock l(&mu_);
      while (!stop_ && queue_.empty()) queued_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping
      // Take what is queued now, as long as each example has the first's shape.
      const auto& first = queue_.front()->input.shape;
      const std::vector<int64_t> example(first.begin() + 1, first.end());
      int64_t rows = 0;
      while (!queue_.empty()) {
        const auto& s = queue_.front()->input.shape;
        const bool same = std::equal(s.begin() + 1, s.end(), example.begin(), example.end());
        if (!batch.empty() && (!same || rows + s[0] > max_batch_)) break;
        rows += s[0];
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++stats_.batches;
      stats_.examples += static_cast<uint64_t>(rows);
    }
    if (batch.size() == 1) {
      batch[0]->done.set_value(model_->Forward(batch[0]->input));
      continue;
    }
    FloatTensor all;
    all.shape = batch[0]->input.shape;
    all.shape[0] = 0;
    for (const auto& p : batch) {
      all.shape[0] += p->input.shape[0];
      all.data.insert(all.data.end(), p->input.data.begin(), p->input.data.end());
    }
    auto out = model_->Forward(all);
    if (!out.ok() || out->shape.empty() || out->shape[0] != all.shape[0]) {
      // Run them one by one so each gets its own answer (or its own error).
      for (auto& p : batch) p->done.set_value(model_->Forward(p->input));
      continue;
    }
    const size_t per_row = out->data.size() / static_cast<size_t>(out->shape[0]);
    size_t offset = 0;
    for (auto& p : batch) {
      FloatTensor mine;
      mine.shape = out->shape;
      mine.shape[0] = p->input.shape[0];
      const size_t n = per_row * static_cast<size_t>(p->input.shape[0]);
      mine.data.assign(out->data.begin() + static_cast<std::ptrdiff_t>(offset),
                       out->data.begin() + static_cast<std::ptrdiff_t>(offset + n));
      offset += n;
      p->done.set_value(std::move(mine));
    }
  }
}

}  // namespace cairn::serve
