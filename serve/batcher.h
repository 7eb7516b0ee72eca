// Dynamic batching for tensor models: concurrent requests that arrive while
// the model is busy are run together as one batch (up to max_batch
// examples), the way Triton's dynamic batcher and vLLM's scheduler raise
// throughput. An idle model runs a lone request at once: no timer, so no
// added latency at low load.
// Thread safety: Run() may be called from many threads at once.
#ifndef CAIRN_SERVE_BATCHER_H_
#define CAIRN_SERVE_BATCHER_H_

#include <deque>
#include <memory>
#include <thread>

#include "runtime/base/mutex.h"
#include "serve/inference_model.h"

namespace cairn::serve {

struct BatcherStats {
  uint64_t requests = 0, batches = 0, examples = 0;
};

class Batcher {
 public:
  Batcher(std::shared_ptr<const InferenceModel> model, int64_t max_batch);
  ~Batcher();
  // Blocks until this request's rows of the batch's output are ready.
  StatusOr<FloatTensor> Run(FloatTensor input);
  BatcherStats stats() const;

 private:
  struct Pending;
  void Loop();

  std::shared_ptr<const InferenceModel> model_;
  const int64_t max_batch_;
  mutable Mutex mu_;
  CondVar queued_;  // signalled when queue_ grows or stop_ is set
  std::deque<std::shared_ptr<Pending>> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  BatcherStats stats_ GUARDED_BY(mu_);
  std::thread thread_;  // runs Loop(); last, so it starts after the fields above exist
};

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_BATCHER_H_
