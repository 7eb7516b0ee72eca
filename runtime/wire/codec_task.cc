// Encoding and decoding of the worker task protocol: TaskAssign,
// TaskRevoke, TaskUpdate and Goodbye.
#include "runtime/wire/codec_internal.h"

namespace cairn::wire {

using namespace ::cairn::wire::internal;  // NOLINT

std::string Encode(const TaskAssign& m) {
  capnp::MallocMessageBuilder b(128 + m.spec.size() / 8);
  auto r = b.initRoot<s::TaskAssign>();
  r.setJobId(Text(m.job_id));
  r.setAttempt(m.attempt);
  r.setRank(m.rank);
  r.setWorldSize(m.world_size);
  r.setSpec(Text(m.spec));
  r.setResumeRound(m.resume_round);
  auto peers = r.initPeers(static_cast<unsigned>(m.peers.size()));
  for (unsigned i = 0; i < m.peers.size(); ++i) peers.set(i, Text(m.peers[i]));
  r.setRendezvous(Text(m.rendezvous));
  r.setJoining(m.joining);
  r.setSecret(Text(m.secret));
  r.setSeatTicket(Bytes(m.seat_ticket));
  r.setOperatorKey(Bytes(m.operator_key));
  return Serialize(b);
}

std::string Encode(const TaskRevoke& m) {
  capnp::MallocMessageBuilder b(64);
  auto r = b.initRoot<s::TaskRevoke>();
  r.setJobId(Text(m.job_id));
  r.setAttempt(m.attempt);
  r.setReason(Text(m.reason));
  return Serialize(b);
}

std::string Encode(const TaskUpdate& m) {
  capnp::MallocMessageBuilder b(64);
  auto r = b.initRoot<s::TaskUpdate>();
  r.setJobId(Text(m.job_id));
  r.setAttempt(m.attempt);
  r.setSequence(m.sequence);
  auto body = r.initBody();
  if (const auto* line = std::get_if<TaskLogLine>(&m.body)) {
    body.setLog(Text(line->line));
  } else if (const auto* receipt = std::get_if<TaskReceipt>(&m.body)) {
    body.setReceipt(capnp::Data::Reader(reinterpret_cast<const kj::byte*>(receipt->entry.data()), receipt->entry.size()));
  } else if (const auto* serving = std::get_if<TaskServing>(&m.body)) {
    auto sb = body.initServing();
    sb.setEndpoint(Text(serving->endpoint));
    sb.setTask(Text(serving->task));
  } else {
    const auto& f = std::get<TaskFinished>(m.body);
    auto fb = body.initFinished();
    fb.setOk(f.ok);
    fb.setMessage(Text(f.message));
    fb.setCode(f.code);
  }
  return Serialize(b);
}

std::string Encode(const Ack& m) {
  capnp::MallocMessageBuilder b(32);
  auto r = b.initRoot<s::Ack>();
  r.setSequence(m.sequence);
  r.setCode(m.code);
  r.setMessage(Text(m.message));
  return Serialize(b);
}

Status Decode(std::string_view payload, Ack* out) {
  return ReadPayload<s::Ack>(payload, MessageType::kAck, [&](s::Ack::Reader r) -> Status {
    out->sequence = r.getSequence();
    out->code = r.getCode();
    out->message = Str(r.getMessage());
    if (out->sequence == 0) return InvalidArgumentError("an Ack names sequence 0");
    if (out->code > 16) return InvalidArgumentError("Ack code " + std::to_string(out->code) + " is not a status code");
    return CheckDataSize(out->message, kMaxErrorMessageBytes, "message");
  });
}

std::string Encode(const Goodbye& m) {
  capnp::MallocMessageBuilder b(32);
  b.initRoot<s::Goodbye>().setReason(Text(m.reason));
  return Serialize(b);
}

Status Decode(std::string_view payload, TaskAssign* out) {
  return ReadPayload<s::TaskAssign>(payload, MessageType::kTaskAssign, [&](s::TaskAssign::Reader r) -> Status {
    out->job_id = Str(r.getJobId());
    out->attempt = r.getAttempt();
    out->rank = r.getRank();
    out->world_size = r.getWorldSize();
    out->spec = Str(r.getSpec());
    out->resume_round = r.getResumeRound();
    auto peers = r.getPeers();
    if (peers.size() > 1024) return OutOfRangeError("peers has " + std::to_string(peers.size()) + " entries; limit 1024");
    out->peers.clear();
    for (auto p : peers) out->peers.push_back(Str(p));
    out->rendezvous = Str(r.getRendezvous());
    out->joining = r.getJoining();
    out->secret = Str(r.getSecret());
    out->seat_ticket = Str(r.getSeatTicket());
    out->operator_key = Str(r.getOperatorKey());
    RETURN_IF_ERROR(CheckText(out->secret, 64, "secret"));
    if (!out->seat_ticket.empty() && out->seat_ticket.size() != 64) return InvalidArgumentError("seatTicket must be 64 bytes");
    if (!out->operator_key.empty() && out->operator_key.size() != 32) return InvalidArgumentError("operatorKey must be 32 bytes");
    RETURN_IF_ERROR(CheckText(out->rendezvous, kMaxIdBytes, "rendezvous"));
    if (out->job_id.empty()) return InvalidArgumentError("jobId is empty");
    RETURN_IF_ERROR(CheckText(out->job_id, kMaxIdBytes, "jobId"));
    RETURN_IF_ERROR(CheckDataSize(out->spec, kMaxSpecBytes, "spec"));
    if (out->joining && (out->world_size < 2 || out->rendezvous.empty() || out->rank >= (1u << 20))) {
      return InvalidArgumentError("a joining task needs worldSize >= 2, a rendezvous and a rank below 2^20");
    }
    if (out->world_size == 0 || (!out->joining && out->rank >= out->world_size)) {
      return InvalidArgumentError("rank " + std::to_string(out->rank) + " is not below worldSize " +
                                  std::to_string(out->world_size));
    }
    if (!out->peers.empty() && out->peers.size() != out->world_size) {
      return InvalidArgumentError("peers must list worldSize workers");
    }
    return OkStatus();
  });
}

Status Decode(std::string_view payload, TaskRevoke* out) {
  return ReadPayload<s::TaskRevoke>(payload, MessageType::kTaskRevoke, [&](s::TaskRevoke::Reader r) -> Status {
    out->job_id = Str(r.getJobId());
    out->attempt = r.getAttempt();
    out->reason = Str(r.getReason());
    RETURN_IF_ERROR(CheckText(out->job_id, kMaxIdBytes, "jobId"));
    return CheckDataSize(out->reason, kMaxErrorMessageBytes, "reason");
  });
}

Status Decode(std::string_view payload, TaskUpdate* out) {
  return ReadPayload<s::TaskUpdate>(payload, MessageType::kTaskUpdate, [&](s::TaskUpdate::Reader r) -> Status {
    out->job_id = Str(r.getJobId());
    out->attempt = r.getAttempt();
    out->sequence = r.getSequence();
    RETURN_IF_ERROR(CheckText(out->job_id, kMaxIdBytes, "jobId"));
    auto body = r.getBody();
    switch (body.which()) {
      case s::TaskUpdate::Body::LOG:
        out->body = TaskLogLine{Str(body.getLog())};
        return CheckDataSize(std::get<TaskLogLine>(out->body).line, kMaxLogLineBytes, "log");
      case s::TaskUpdate::Body::FINISHED:
      {
        TaskFinished f{body.getFinished().getOk(), Str(body.getFinished().getMessage()), body.getFinished().getCode()};
        if (f.code > 16) return InvalidArgumentError("finished.code " + std::to_string(f.code) + " is not a status code");
        if (f.ok != (f.code == 0)) return InvalidArgumentError("finished.ok and finished.code disagree");
        out->body = std::move(f);
        return CheckDataSize(std::get<TaskFinished>(out->body).message, kMaxErrorMessageBytes, "finished.message");
      }
      case s::TaskUpdate::Body::RECEIPT: {
        auto d = body.getReceipt();
        out->body = TaskReceipt{std::string(reinterpret_cast<const char*>(d.begin()), d.size())};
        return CheckDataSize(std::get<TaskReceipt>(out->body).entry, kMaxReceiptBytes, "receipt");
      }
      case s::TaskUpdate::Body::SERVING: {
        TaskServing sv{Str(body.getServing().getEndpoint()), Str(body.getServing().getTask())};
        RETURN_IF_ERROR(CheckText(sv.endpoint, kMaxIdBytes, "serving.endpoint"));
        RETURN_IF_ERROR(CheckText(sv.task, kMaxIdBytes, "serving.task"));
        const size_t colon = sv.endpoint.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 >= sv.endpoint.size() ||
            sv.endpoint.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
            std::atoi(sv.endpoint.c_str() + colon + 1) <= 0 || std::atoi(sv.endpoint.c_str() + colon + 1) > 65535) {
          return InvalidArgumentError("serving.endpoint must be HOST:PORT, got '" + sv.endpoint + "'");
        }
        out->body = std::move(sv);
        return OkStatus();
      }
    }
    return InvalidArgumentError("unknown task update " + std::to_string(static_cast<int>(body.which())));
  });
}

Status Decode(std::string_view payload, Goodbye* out) {
  return ReadPayload<s::Goodbye>(payload, MessageType::kGoodbye, [&](s::Goodbye::Reader r) -> Status {
    out->reason = Str(r.getReason());
    return CheckDataSize(out->reason, kMaxErrorMessageBytes, "reason");
  });
}

}  // namespace cairn::wire
