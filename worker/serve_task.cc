#include "worker/serve_task.h"

#include <thread>

#include "serve/replica_server.h"
#include "worker/devices.h"

namespace cairn::worker {

StatusOr<std::string> RunServeTask(const TaskContext& c) {
  const jobspec::JobSpec& spec = c.spec;
  if (spec.model.empty()) return InvalidArgumentError("a serve job names a registered model: model: NAME");
  CoordinatorHttp http(c.env.Http());
  ASSIGN_OR_RETURN(RegisteredModel registered, http.Model(spec.model));
  const std::string& torchscript = registered.torchscript;
  ASSIGN_OR_RETURN(std::unique_ptr<serve::InferenceModel> loaded,
                   serve::InferenceModel::Load(torchscript, spec.device == jobspec::Device::kCuda ? serve::ServeDevice::kCuda
                                                                                                  : serve::ServeDevice::kCpu));
  std::shared_ptr<const serve::InferenceModel> model(std::move(loaded));

  serve::ReplicaOptions o;
  o.model_name = spec.model;
  const std::string local = LocalAddressToward(c.env.coordinator_host);
  o.host = local.empty() ? "0.0.0.0" : local;
  serve::ReplicaServer server(model, o);
  ASSIGN_OR_RETURN(int port, server.Start());
  const std::string endpoint = (local.empty() ? std::string("127.0.0.1") : local) + ":" + std::to_string(port);
  const char* task_name = serve::ModelTaskName(model->info().task);
  c.io.log(std::string("serving '") + spec.model + "' (" + task_name + ", " + std::to_string(torchscript.size() / 1024) +
           " KiB) on " + model->info().device + " at " + endpoint);
  RETURN_IF_ERROR(c.io.serving(endpoint, task_name));
  while (!c.cancel.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // until revoked
  server.Stop();
  const serve::ReplicaStats s = server.stats();
  return "served " + std::to_string(s.requests) + " requests (" + std::to_string(s.errors) + " errors, " +
         std::to_string(s.completion_tokens) + " tokens generated)";
}

}  // namespace cairn::worker
