// Dynamic batching for tensor models: concurrent requests that arrive while
// the model is busy are run together as one batch (up to max_batch
// examples), the way Triton's dynamic batcher and vLLM's scheduler raise
// throughput. An idle model runs a lone request at once: no timer, so no
// added latency at low load.
// Thread safety: Run() may be called from many threads at once.
#ifndef CAIRN_SERVE_BATCHER_H_
#define CAIRN_SERVE_BATCHER_H_

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

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
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool stop_ = false;
  BatcherStats stats_;
  std::thread thread_;
};

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_BATCHER_H_
