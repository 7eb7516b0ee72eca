#include "train/membership.h"

#include "train/seat.h"

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

std::string AttemptPrefix(uint64_t round, uint32_t attempt) {
  return "r" + std::to_string(round) + "e" + std::to_string(attempt) + "/";
}

}  // namespace

StatusOr<Membership> Membership::Connect(const std::string& host, int port, const std::string& prefix, uint32_t uid,
                                         uint32_t world, const std::string& gloo_host, bool joiner,
                                         const SeatAuth* auth) {
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
  if (auth) {
    m.auth_ = *auth;
    try {
      m.store_->set("key/" + std::to_string(uid), Bytes(auth->public_key + auth->ticket));
    } catch (const std::exception& e) {
      return UnavailableError(std::string("publishing this worker's seat failed: ") + e.what());
    }
  }
  if (!joiner) {
    for (uint32_t i = 0; i < world; ++i) m.members_.push_back(i);
    return m;
  }
  try {
    const int64_t n = m.store_->add("joiners", 1);
    m.store_->set("joiner/" + std::to_string(n), Bytes(std::to_string(uid)));
  } catch (const std::exception& e) {
    return UnavailableError(std::string("registering as a joiner failed: ") + e.what());
  }
  return m;
}

Status Membership::Stopped(bool check_gone) {
  if (cancel_ && cancel_->load()) return CancelledError("training cancelled");
  if (check_gone && store_->check({"gone/" + std::to_string(uid_)})) return Dropped();
  return OkStatus();
}

StatusOr<std::string> Membership::VerifiedKey(uint32_t uid) {
  auto cached = verified_.find(uid);
  if (cached != verified_.end()) return cached->second;
  const std::string key = "key/" + std::to_string(uid);
  if (!store_->check({key})) return NotFoundError("uid " + std::to_string(uid) + " has published no seat");
  const std::string v = Text(store_->get(key));
  if (v.size() != 32 + 64) return UnauthenticatedError("uid " + std::to_string(uid) + " published a malformed seat");
  RETURN_IF_ERROR(VerifySeat(auth_->operator_key, auth_->job, auth_->attempt, uid, v.substr(0, 32), v.substr(32)));
  verified_[uid] = v.substr(0, 32);
  return v.substr(0, 32);
}

Status Membership::Dropped() { return FailedPreconditionError("the coordinator dropped this worker from the job"); }

StatusOr<uint64_t> Membership::CurrentRound() {
  try {
    if (store_->check({"finished"})) return FailedPreconditionError("the job finished before this worker could join");
    return store_->check({"round"}) ? std::stoull(Text(store_->get("round"))) : 0;
  } catch (const std::exception& e) {
    return UnavailableError(std::string("reading the job's round failed: ") + e.what());
  }
}

void Membership::Finish() {
  try {
    store_->set("finished", Bytes("1"));
  } catch (const std::exception&) {
    // Joiners then time out on their own.
  }
}

StatusOr<Group> Membership::Join(uint64_t round, uint32_t attempt, std::chrono::milliseconds timeout) {
  const std::string p = AttemptPrefix(round, attempt);
  const bool newcomer = std::find(members_.begin(), members_.end(), uid_) == members_.end();
  try {
    store_->set(p + "here/" + std::to_string(uid_), Bytes(synced_ ? "in" : "new"));
    std::string agreed;
    if (newcomer) {
      // A joiner waits for the members' decision; it never proposes. The
      // members may be mid-round: wait for as long as a round may take.
      const auto deadline = std::chrono::steady_clock::now() + std::max(timeout, std::chrono::milliseconds(30 * 60 * 1000));
      while (!store_->check({p + "members"})) {
        if (store_->check({"finished"})) return FailedPreconditionError("the job finished before this worker could join");
        if (std::chrono::steady_clock::now() >= deadline) return DeadlineExceededError("no round began while waiting to join");
        RETURN_IF_ERROR(Stopped());
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      agreed = Text(store_->get(p + "members"));
    } else {
      store_->set("round", Bytes(std::to_string(round)));
      const auto deadline = std::chrono::steady_clock::now() + timeout;
      std::vector<uint32_t> present;
      while (true) {
        present.clear();
        size_t gone = 0;
        for (uint32_t u : members_) {
          if (store_->check({"gone/" + std::to_string(u)})) {
            if (u == uid_) return Dropped();
            ++gone;  // the coordinator saw it die: never wait for it, even if it said "here" first
          } else if (store_->check({p + "here/" + std::to_string(u)})) {
            present.push_back(u);
          }
        }
        if (present.size() + gone == members_.size() || std::chrono::steady_clock::now() >= deadline) break;
        RETURN_IF_ERROR(Stopped(/*check_gone=*/false));  // its own marker was read above
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (std::find(present.begin(), present.end(), uid_) == present.end()) present.push_back(uid_);
      // Joiners that are here now come in; nobody waits for them.
      const int64_t joiners = store_->add("joiners", 0);
      for (int64_t i = 1; i <= joiners; ++i) {
        const std::string key = "joiner/" + std::to_string(i);
        if (!store_->check({key})) continue;
        const uint32_t u = static_cast<uint32_t>(std::stoul(Text(store_->get(key))));
        if (std::find(present.begin(), present.end(), u) == present.end() && store_->check({p + "here/" + std::to_string(u)}) &&
            !store_->check({"gone/" + std::to_string(u)})) {
          present.push_back(u);
        }
      }
      // Only ticketed seats: a process that was not placed is never a member.
      if (auth_) {
        std::vector<uint32_t> seated;
        for (uint32_t u : present) {
          if (VerifiedKey(u).ok()) seated.push_back(u);
        }
        present = std::move(seated);
      }
      // Those holding the state first, so rank 0 can hand it to the rest.
      std::vector<std::pair<bool, uint32_t>> order;
      for (uint32_t u : present) order.emplace_back(Text(store_->get(p + "here/" + std::to_string(u))) != "in", u);
      std::sort(order.begin(), order.end());
      present.clear();
      for (const auto& [fresh, u] : order) present.push_back(u);
      // First proposal wins; everyone adopts the stored answer.
      const std::string mine = Encode(present);
      agreed = Text(store_->compareSet(p + "members", {}, Bytes(mine)));
      if (agreed.empty()) agreed = mine;
    }
    std::vector<uint32_t> members = Decode(agreed);
    auto me = std::find(members.begin(), members.end(), uid_);
    if (me == members.end()) {
      return FailedPreconditionError("dropped from the group at round " + std::to_string(round) + " (members " + agreed + ")");
    }
    Group g;
    g.members = members;
    g.rank = static_cast<uint32_t>(me - members.begin());
    if (auth_) {
      for (uint32_t u : members) {
        auto key = VerifiedKey(u);
        if (!key.ok()) return AbortedError("the agreed group of round " + std::to_string(round) + " has " + std::string(key.status().message()));
        g.keys[u] = *key;
      }
    }
    for (uint32_t u : members) g.sync = g.sync || Text(store_->get(p + "here/" + std::to_string(u))) != "in";
    try {
      auto opts = c10d::ProcessGroupGloo::Options::create(std::chrono::seconds(20));
      opts->devices.push_back(gloo_host_.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                                 : c10d::ProcessGroupGloo::createDeviceForHostname(gloo_host_));
      auto pg_store = c10::make_intrusive<c10d::PrefixStore>(p + "pg", store_);
      g.pg = c10::make_intrusive<c10d::ProcessGroupGloo>(pg_store, static_cast<int>(g.rank), static_cast<int>(g.world()), opts);
    } catch (const std::exception& e) {
      // A member agreed on died before it connected: every member's attempt
      // fails the same way; they meet again under the next try.
      std::string why = e.what();
      return AbortedError("connecting the group of round " + std::to_string(round) + " failed: " + why.substr(0, why.find('\n')));
    }
    members_ = members;
    return g;
  } catch (const std::exception& e) {
    return UnavailableError(std::string("forming the process group failed: ") + e.what());
  }
}

StatusOr<bool> Membership::Commit(uint64_t round, uint32_t attempt, bool ok, std::chrono::milliseconds timeout) {
  const std::string p = AttemptPrefix(round, attempt);
  try {
    store_->set(p + "vote/" + std::to_string(uid_), Bytes(ok ? "ok" : "failed"));
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string proposal = "abort";
    while (ok) {
      size_t oks = 0;
      bool failed = false;
      for (uint32_t u : members_) {
        const std::string key = p + "vote/" + std::to_string(u);
        if (!store_->check({key})) {
          failed = failed || store_->check({"gone/" + std::to_string(u)});  // it will never vote
          continue;
        }
        if (Text(store_->get(key)) == "ok") {
          ++oks;
        } else {
          failed = true;
        }
      }
      if (failed) break;
      if (oks == members_.size()) {
        proposal = "commit";
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) break;
      RETURN_IF_ERROR(Stopped());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const std::string decided = Text(store_->compareSet(p + "decision", {}, Bytes(proposal)));
    return (decided.empty() ? proposal : decided) == "commit";
  } catch (const std::exception& e) {
    return UnavailableError(std::string("the round's commit vote failed: ") + e.what());
  }
}

}  // namespace cairn::train
