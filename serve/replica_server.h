// One serving replica: a registered model loaded on a worker, answering the
// OpenAI completions and chat APIs (text models) and the KServe v2 protocol
// (tensor models; text models with BYTES tensors) over HTTP. The coordinator's gateway is its client: it
// authenticates consumers, picks a replica and meters what the replica's
// answers report (usage counts). Tensor requests go through a Batcher.
// Thread safety: Start/Stop from one thread; requests on httplib's pool.
#ifndef CAIRN_SERVE_REPLICA_SERVER_H_
#define CAIRN_SERVE_REPLICA_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "serve/batcher.h"
#include "serve/inference_model.h"

namespace httplib {
class Server;
}

namespace cairn::serve {

struct ReplicaOptions {
  std::string model_name;
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  int64_t max_batch = 32;
};

struct ReplicaStats {
  uint64_t requests = 0, errors = 0, completion_tokens = 0;
};

class ReplicaServer {
 public:
  ReplicaServer(std::shared_ptr<const InferenceModel> model, ReplicaOptions options);
  ~ReplicaServer();
  // Binds and serves on a background thread; returns the port.
  StatusOr<int> Start();
  void Stop();
  ReplicaStats stats() const;
  const ReplicaOptions& options() const { return options_; }

 private:
  void Routes();
  void KServeRoutes();  // replica_kserve.cc
  void OpenAiRoutes();  // replica_openai.cc

  std::shared_ptr<const InferenceModel> model_;
  ReplicaOptions options_;
  Batcher batcher_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<uint64_t> requests_{0}, errors_{0}, tokens_{0};
};

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_REPLICA_SERVER_H_
