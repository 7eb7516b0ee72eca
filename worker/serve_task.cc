#include "worker/serve_task.h"

#include <chrono>
#include <thread>

#include "data/data_client.h"
#include "jobspec/job_spec.h"
#include "serve/replica_server.h"

namespace cairn::worker {

StatusOr<std::string> RunServeTask(const wire::TaskAssign& task, const std::atomic<bool>& cancel,
                                   const worker::TaskIo& io, const TrainEnvironment& env) {
  ASSIGN_OR_RETURN(jobspec::JobSpec spec, jobspec::ParseJobSpec(task.spec, task.job_id));
  if (spec.model.empty()) return InvalidArgumentError("a serve job names a registered model: model: NAME");
  data::DataClient client(env.coordinator_host, env.http_port, env.cache_dir);
  ASSIGN_OR_RETURN(RegisteredModel registered, FetchRegisteredModel(env, client, spec.model));
  const std::string& torchscript = registered.torchscript;
  ASSIGN_OR_RETURN(std::unique_ptr<serve::InferenceModel> loaded, 
                   serve::InferenceModel::Load(torchscript, spec.device == jobspec::Device::kCuda
                                                                ? serve::ServeDevice::kCuda
                                                                : serve::ServeDevice::kCpu));
  std::shared_ptr<const serve::InferenceModel> model(std::move(loaded));

  serve::ReplicaOptions o;
  o.model_name = spec.model;
  const std::string local = LocalAddressToward(env.coordinator_host);
  o.host = local.empty() ? "0.0.0.0" : local;
  serve::ReplicaServer server(model, o);
  ASSIGN_OR_RETURN(int port, server.Start());
  const std::string endpoint = (local.empty() ? std::string("127.0.0.1") : local) + ":" + std::to_string(port);
  const char* task_name = serve::ModelTaskName(model->info().task);
  io.log(std::string("serving '") + spec.model + "' (" + task_name + ", " + std::to_string(torchscript.size() / 1024) +
         " KiB) on " + model->info().device + " at " + endpoint);
  io.serving(endpoint, task_name);
  while (!cancel.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server.Stop();
  const serve::ReplicaStats s = server.stats();
  return "served " + std::to_string(s.requests) + " requests (" + std::to_string(s.errors) + " errors, " +
         std::to_string(s.completion_tokens) + " tokens generated)";
}

}  // namespace cairn::worker
