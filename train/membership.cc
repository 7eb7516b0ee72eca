#include "train/membership.h"

#include <algorithm>
#include <sstream>
#include <thread>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

namespace cairn::train {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::string Text(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

std::string Encode(const std::vector<uint32_t>& uids) {
  std::string s;
  for (uint32_t u : uids) s += (s.empty() ? "" : ",") + std::to_string(u);
  return s;
}

std::vector<uint32_t> Decode(const std::string& s) {
  std::vector<uint32_t> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) out.push_back(static_cast<uint32_t>(std::stoul(part)));
  return out;
}

}  // namespace

StatusOr<Membership> Membership::Connect(const std::string& host, int port, const std::string& prefix, uint32_t uid,
                                         uint32_t world, const std::string& gloo_host) {
  Membership m;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(port);
    so.isServer = false;
    so.waitWorkers = false;
    so.timeout = std::chrono::minutes(5);
    auto store = c10::make_intrusive<c10d::TCPStore>(host, so);
    m.store_ = c10::make_intrusive<c10d::PrefixStore>(prefix, store);
  } catch (const std::exception& e) {
    return UnavailableError("cannot reach the rendezvous store at " + host + ":" + std::to_string(port) + ": " + e.what());
  }
  m.gloo_host_ = gloo_host;
  m.uid_ = uid;
  for (uint32_t i = 0; i < world; ++i) m.members_.push_back(i);
  return m;
}

StatusOr<Group> Membership::Join(uint64_t round, uint32_t attempt, std::chrono::milliseconds timeout) {
  const std::string p = "r" + std::to_string(round) + "e" + std::to_string(attempt) + "/";
  try {
    store_->set(p + "here/" + std::to_string(uid_), Bytes("1"));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<uint32_t> present;
    while (true) {
      present.clear();
      for (uint32_t u : members_) {
        if (store_->check({p + "here/" + std::to_string(u)})) present.push_back(u);
      }
      if (present.size() == members_.size() || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (std::find(present.begin(), present.end(), uid_) == present.end()) present.push_back(uid_);
    std::sort(present.begin(), present.end());
    // First proposal wins; everyone adopts the stored answer.
    const std::string agreed = Text(store_->compareSet(p + "members", {}, Bytes(Encode(present))));
    std::vector<uint32_t> members = Decode(agreed.empty() ? Encode(present) : agreed);
    auto me = std::find(members.begin(), members.end(), uid_);
    if (me == members.end()) {
      return FailedPreconditionError("dropped from the group at round " + std::to_string(round) + " (members " + agreed + ")");
    }
    Group g;
    g.members = members;
    g.rank = static_cast<uint32_t>(me - members.begin());
    auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(60));
    opts->devices.push_back(gloo_host_.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                               : c10d::ProcessGroupGloo::createDeviceForHostname(gloo_host_));
    auto pg_store = c10::make_intrusive<c10d::PrefixStore>(p + "pg", store_);
    g.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(pg_store, static_cast<int>(g.rank), static_cast<int>(g.world()), opts);
    members_ = members;
    return g;
  } catch (const std::exception& e) {
    return UnavailableError(std::string("forming the process group failed: ") + e.what());
  }
}

}  // namespace cairn::train
