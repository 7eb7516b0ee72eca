#include "worker/train_task.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "data/data_client.h"
#include "ledger/entry.h"
#include "runtime/base/encoding.h"
#include "jobspec/job_spec.h"
#include "train/trainer.h"

namespace cairn::worker {
namespace {

int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string Raw(const kernels::Digest256& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }

// The blob of the job's latest checkpoint, from the coordinator.
StatusOr<std::string> FetchCheckpoint(const TrainEnvironment& env, data::DataClient& client, const std::string& job_id) {
  httplib::Client http(env.coordinator_host, env.http_port);
  http.set_connection_timeout(5);
  auto r = http.Get("/jobs/" + job_id + "/checkpoint");
  if (!r) return UnavailableError("cannot reach the coordinator's HTTP port for the checkpoint");
  if (r->status == 404) return NotFoundError("the coordinator has no checkpoint for " + job_id);
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("blob")) return InternalError("unexpected checkpoint reply: " + r->body);
  auto raw = HexDecode(j["blob"].get<std::string>());
  if (!raw.ok() || raw->size() != 32) return InternalError("checkpoint blob is not a hash");
  Sha256Digest h;
  std::copy(raw->begin(), raw->end(), h.begin());
  return client.GetBlob(h);
}

}  // namespace

StatusOr<RegisteredModel> FetchRegisteredModel(const TrainEnvironment& env, data::DataClient& client, const std::string& name) {
  httplib::Client http(env.coordinator_host, env.http_port);
  http.set_connection_timeout(5);
  auto r = http.Get("/models/" + name);
  if (!r) return UnavailableError("cannot reach the coordinator's HTTP port to look up model '" + name + "'");
  if (r->status != 200) return NotFoundError("model '" + name + "' is not registered (cairn models list)");
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  auto raw = HexDecode(j.is_object() ? j.value("blob", "") : "");
  if (!raw.ok() || raw->size() != 32) return InternalError("the record of model '" + name + "' has no blob hash");
  Sha256Digest h;
  std::copy(raw->begin(), raw->end(), h.begin());
  RegisteredModel m;
  m.hash = *raw;
  ASSIGN_OR_RETURN(m.torchscript, client.GetBlob(h));  // verified against its hash
  return m;
}

std::string LocalAddressToward(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return "";
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  std::string out;
  if (::inet_pton(AF_INET, host.c_str(), &to.sin_addr) == 1 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0) {
    sockaddr_in me{};
    socklen_t len = sizeof(me);
    char buf[INET_ADDRSTRLEN] = {};
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0 &&
        ::inet_ntop(AF_INET, &me.sin_addr, buf, sizeof(buf)) != nullptr) {
      out = buf;
    }
  }
  ::close(fd);
  return out;
}

StatusOr<std::string> RunTrainTask(const wire::TaskAssign& task, const std::atomic<bool>& cancel,
                                   const worker::TaskIo& io, const TrainEnvironment& env) {
  ASSIGN_OR_RETURN(jobspec::JobSpec spec, jobspec::ParseJobSpec(task.spec, task.job_id));
  if (spec.datasets.empty()) return InvalidArgumentError("a train job needs datasets: [NAME]");
  train::TrainTask t;
  ASSIGN_OR_RETURN(t.config, train::ConfigFromSpec(spec));
  t.job_id = task.job_id;
  t.job_name = spec.name;
  t.attempt = task.attempt;
  t.rank = task.rank;
  t.world = task.world_size;
  t.joining = task.joining;
  t.store_host = env.coordinator_host;
  t.gloo_host = LocalAddressToward(env.coordinator_host);  // "" (the host name's address) if unknown
  if (task.world_size > 1) {
    if (task.rendezvous.size() < 2 || task.rendezvous[0] != ':') {
      return InvalidArgumentError("multi-worker task without a rendezvous port from the coordinator");
    }
    t.store_port = std::atoi(task.rendezvous.c_str() + 1);
  }
  data::DataClient client(env.coordinator_host, env.http_port, env.cache_dir);
  ASSIGN_OR_RETURN(t.dataset, client.GetManifest(spec.datasets[0]));
  if (t.config.model == "torchscript") {
    // `cairn submit` uploaded the user's module: fetch it by hash.
    const std::string& ref = t.config.torchscript_path;
    auto raw = ref.rfind("sha256:", 0) == 0 ? HexDecode(ref.substr(7)) : StatusOr<std::string>(InvalidArgumentError(""));
    if (!raw.ok() || raw->size() != 32) return InvalidArgumentError("model.torchscript must name an uploaded module (sha256:HEX)");
    Sha256Digest h;
    std::copy(raw->begin(), raw->end(), h.begin());
    RETURN_IF_ERROR(client.GetBlob(h).status());  // verified and cached
    t.config.torchscript_path = env.cache_dir + "/" + HexEncode(*raw).substr(0, 2) + "/" + HexEncode(*raw);
  }
  std::string parent_hash;  // raw; lineage for modelRegistered
  if (!spec.parent_model.empty()) {
    ASSIGN_OR_RETURN(RegisteredModel parent, FetchRegisteredModel(env, client, spec.parent_model));
    parent_hash = std::move(parent.hash);
    t.parent_torchscript = std::move(parent.torchscript);
  }
  if (task.resume_round > 0) {
    ASSIGN_OR_RETURN(t.resume_checkpoint, FetchCheckpoint(env, client, task.job_id));
    io.log("resuming from the checkpoint of round " + std::to_string(task.resume_round));
  }
  const Ed25519PrivateKey& key = *env.identity;
  const std::string dataset_id(DigestView(data::DatasetId(t.dataset)));

  train::TrainHooks hooks;
  hooks.cancel = &cancel;
  hooks.threads = env.threads;
  hooks.log = io.log;
  hooks.on_round = [&](const train::RoundReport& r) -> Status {
    ASSIGN_OR_RETURN(std::string entry, ledger::MakeEntry(key, UnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
      auto s = b.initStepReceipt();
      s.setJobId(task.job_id);
      s.setRound(r.round);
      s.setSteps(r.steps);
      s.setStartUnixMillis(r.start_unix_ms);
      s.setEndUnixMillis(r.end_unix_ms);
      auto used = s.initConsumed(static_cast<unsigned>(r.consumed.size()));
      for (unsigned i = 0; i < r.consumed.size(); ++i) {
        used[i].setDatasetId(ledger::AsData(std::string(DigestView(r.consumed[i].dataset))));
        used[i].setChunk(r.consumed[i].chunk);
        used[i].setSamples(r.consumed[i].samples);
      }
      s.setFingerprintBefore(ledger::AsData(Raw(r.fingerprint_before)));
      s.setFingerprintAfter(ledger::AsData(Raw(r.fingerprint_after)));
      s.setLoss(r.loss);
    }));
    io.receipt(entry);
    return OkStatus();
  };
  hooks.on_checkpoint = [&](uint64_t round, const std::string& bytes, const kernels::Digest256& fp) -> Status {
    RETURN_IF_ERROR(client.PutBlob(bytes));
    const Sha256Digest h = Sha256(bytes);
    ASSIGN_OR_RETURN(std::string entry, ledger::MakeEntry(key, UnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
      auto c = b.initCheckpointCommitted();
      c.setJobId(task.job_id);
      c.setRound(round);
      c.setBlobHash(ledger::AsData(std::string(DigestView(h))));
      c.setFingerprint(ledger::AsData(Raw(fp)));
      c.setSizeBytes(bytes.size());
    }));
    io.receipt(entry);
    io.log("checkpoint of round " + std::to_string(round) + " committed (" + std::to_string(bytes.size() / 1024) + " KiB)");
    return OkStatus();
  };
  auto trained = train::RunTraining(t, client, hooks);
  if (!trained.ok() && t.joining && trained.status().code() == StatusCode::kFailedPrecondition) {
    return "did not join: " + std::string(trained.status().message());  // the job ended first; nothing is wrong
  }
  ASSIGN_OR_RETURN(train::TrainResult result, std::move(trained));
  char summary[256];
  std::snprintf(summary, sizeof(summary), "%llu rounds in %.1f s, final loss %.4f",
                static_cast<unsigned long long>(result.rounds - result.first_round + 1), result.seconds, result.final_loss);
  std::string message = summary;
  if (!result.leader) return message;

  // Rank 0 registers the model with its lineage.
  RETURN_IF_ERROR(client.PutBlob(result.torchscript));
  const Sha256Digest model_hash = Sha256(result.torchscript);
  const std::string name = spec.output_model.empty() ? spec.name : spec.output_model;
  ASSIGN_OR_RETURN(std::string entry, ledger::MakeEntry(key, UnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto m = b.initModelRegistered();
    m.setName(name);
    m.setModelHash(ledger::AsData(std::string(DigestView(model_hash))));
    m.setJobId(task.job_id);
    m.setParentModel(ledger::AsData(parent_hash));
    m.initDatasets(1).set(0, ledger::AsData(dataset_id));
    m.setLicense(spec.output_license.empty() ? "proprietary" : spec.output_license);
    if (!spec.output_author.empty()) {
      auto author = HexDecode(spec.output_author);  // 64 hex digits: the spec parser checked
      m.setAuthor(ledger::AsData(author.ok() ? *author : std::string()));
    }
    auto shares = m.initShares(static_cast<unsigned>(spec.output_shares.size()));
    unsigned i = 0;
    for (const auto& [account, bp] : spec.output_shares) {
      auto raw = HexDecode(account);
      shares[i].setAccount(ledger::AsData(raw.ok() ? *raw : std::string()));
      shares[i].setBasisPoints(bp);
      ++i;
    }
  }));
  io.receipt(entry);
  char eval[128];
  std::snprintf(eval, sizeof(eval), "; %s %.4f; model '%s' (%s) registered", t.dataset.format == data::Format::kIdx ? "test accuracy" : "validation loss",
                result.final_eval, name.c_str(), HexEncode(DigestView(model_hash)).substr(0, 16).c_str());
  return message + eval;
}

}  // namespace cairn::worker
