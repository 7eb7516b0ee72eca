#include "runtime/wire/codec.h"

#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "runtime/base/clock.h"
#include "runtime/crypto/x25519.h"
#include "runtime/wire/hello.h"

namespace cairn::wire {
namespace {

WorkerHello SampleHello() {
  WorkerHello h;
  h.name = "gpu-box-1";
  h.region = "eu-west";
  h.price_per_hour_micros = 1'500'000;
  h.max_tasks = 2;
  h.devices.push_back(Device{DeviceKind::kCuda, "NVIDIA H100", 80ull << 30, 132, "9.0", 610.5});
  h.devices.push_back(Device{DeviceKind::kCpu, "AMD EPYC", 256ull << 30, 64, ""});
  h.measured_tflops = 51.5;
  h.sent_unix_millis = 1'700'000'000'000;
  return h;
}

TEST(TypeFrame, RoundTripsEveryTypeAndRejectsGarbage) {
  for (uint8_t t = 1; t <= kMaxMessageType; ++t) {
    auto type = static_cast<MessageType>(t);
    auto parsed = ParseTypeFrame(TypeFrame(type));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, type);
    EXPECT_GT(MaxPayloadBytes(type), 0u);
  }
  EXPECT_FALSE(ParseTypeFrame("").ok());
  EXPECT_FALSE(ParseTypeFrame("CN\x01").ok());
  EXPECT_FALSE(ParseTypeFrame(std::string("XN\x01\x01", 4)).ok());
  EXPECT_NE(ParseTypeFrame(std::string("CN\x02\x01", 4)).status().message().find("protocol version 2"),
            std::string::npos);
  EXPECT_NE(ParseTypeFrame(std::string("CN\x01\x63", 4)).status().message().find("unknown message type 99"),
            std::string::npos);
  EXPECT_FALSE(ParseTypeFrame(std::string("CN\x01\x00", 4)).ok());
}

TEST(Codec, HeartbeatRoundTrip) {
  Heartbeat h{42, -7, 3, {}, {Challenge{"job-1", 2, 9, std::string(32, 'a'), std::string(32, 'b')}}};
  auto d = Decode<Heartbeat>(Encode(h));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->sequence, 42u);
  EXPECT_EQ(d->sent_unix_millis, -7);
  EXPECT_EQ(d->running_tasks, 3u);
  ASSERT_EQ(d->challenges.size(), 1u);
  EXPECT_TRUE(d->challenges[0] == h.challenges[0]);
  // A challenge whose hashes are not 32 bytes, or too many of them, is refused.
  Heartbeat bad = h;
  bad.challenges[0].steps_hash = "short";
  EXPECT_NE(Decode<Heartbeat>(Encode(bad)).status().message().find("32 bytes"), std::string::npos);
  bad = h;
  bad.challenges.assign(65, h.challenges[0]);
  EXPECT_NE(Decode<Heartbeat>(Encode(bad)).status().message().find("limit 64"), std::string::npos);
}

TEST(Codec, HelloRoundTrip) {
  WorkerHello h = SampleHello();
  h.identity_key = std::string(32, 'k');
  h.signature = std::string(64, 's');
  auto d = Decode<WorkerHello>(Encode(h));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name, "gpu-box-1");
  ASSERT_EQ(d->devices.size(), 2u);
  EXPECT_EQ(d->devices[0].kind, DeviceKind::kCuda);
  EXPECT_EQ(d->devices[0].compute_capability, "9.0");
  EXPECT_DOUBLE_EQ(d->devices[0].bf16_tflops, 610.5);
  EXPECT_EQ(d->devices[1].memory_bytes, 256ull << 30);
  EXPECT_EQ(d->signature, h.signature);
  EXPECT_DOUBLE_EQ(d->measured_tflops, 51.5);
  // A device's measured bf16 speed that is not a sane number is refused.
  for (double bad : {-1.0, std::nan(""), 1e9}) {
    WorkerHello b = h;
    b.devices[0].bf16_tflops = bad;
    auto r = Decode<WorkerHello>(Encode(b));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("bf16Tflops"), std::string::npos) << r.status();
  }
}

TEST(Codec, ClientRequestAndReplyUnions) {
  ClientRequest req{7, 99, PingBody{"hello"}};
  auto r = Decode<ClientRequest>(Encode(req));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<PingBody>(r->body).payload, "hello");
  ClientRequest who{8, 0, WhoamiBody{}};
  EXPECT_TRUE(std::holds_alternative<WhoamiBody>(Decode<ClientRequest>(Encode(who))->body));

  ClientReply err{7, ErrorReply{5, "no such job", 7}};
  auto e = Decode<ClientReply>(Encode(err));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(std::get<ErrorReply>(e->body).message, "no such job");
  ClientReply pong{7, PongBody{"x"}};
  EXPECT_EQ(std::get<PongBody>(Decode<ClientReply>(Encode(pong))->body).payload, "x");
  auto w = Decode<Welcome>(Encode(Welcome{"abc", 1000, 3}));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->heartbeat_liveness, 3u);
}

TEST(Codec, UnalignedPayloadIsCopiedNotRejected) {
  std::string bytes = Encode(Heartbeat{1, 2, 3, {}, {}});
  std::string shifted = "x" + bytes;
  auto d = Decode<Heartbeat>(std::string_view(shifted).substr(1));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->running_tasks, 3u);
}

TEST(Codec, RejectsTruncatedTrailingAndOversized) {
  std::string bytes = Encode(SampleHello());
  for (size_t n = 0; n < bytes.size(); n += 8) {
    EXPECT_FALSE(Decode<WorkerHello>(std::string_view(bytes).substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(Decode<WorkerHello>(bytes.substr(0, bytes.size() - 3)).ok());
  auto trailing = Decode<WorkerHello>(bytes + std::string(8, '\0'));
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.status().message().find("trailing"), std::string::npos);
  auto big = Decode<Heartbeat>(std::string(64 * 1024, '\0'));
  EXPECT_EQ(big.status().code(), StatusCode::kOutOfRange);
}

TEST(Codec, RejectsFieldsPastTheirLimits) {
  WorkerHello h = SampleHello();
  h.name = std::string(kMaxNameBytes + 1, 'n');
  EXPECT_EQ(Decode<WorkerHello>(Encode(h)).status().code(), StatusCode::kOutOfRange);
  h = SampleHello();
  h.name = "bad\nname";
  EXPECT_NE(Decode<WorkerHello>(Encode(h)).status().message().find("control character"), std::string::npos);
  h = SampleHello();
  h.identity_key = std::string(33, 'k');
  EXPECT_NE(Decode<WorkerHello>(Encode(h)).status().message().find("identityKey"), std::string::npos);
  h = SampleHello();
  h.measured_tflops = std::nan("");
  EXPECT_FALSE(Decode<WorkerHello>(Encode(h)).ok());
  h = SampleHello();
  h.devices.resize(kMaxDevices + 1);
  EXPECT_EQ(Decode<WorkerHello>(Encode(h)).status().code(), StatusCode::kOutOfRange);
}

// Random payloads (half with a plausible segment table, so that pointer
// decoding is reached) must come back as errors or values, never a crash;
// the libFuzzer target (decode_fuzz.cc) explores this far more deeply.
TEST(Codec, RandomBytesNeverCrash) {
  std::mt19937_64 rng(1234);
  for (int i = 0; i < 20000; ++i) {
    size_t n = (rng() % 64) * 8;
    std::string buf(n, '\0');
    for (auto& c : buf) c = static_cast<char>(rng());
    // Keep the segment table plausible half the time so the pointer decoding
    // (not just the header check) gets exercised.
    if (n >= 8 && (i % 2 == 0)) {
      uint32_t words = static_cast<uint32_t>(n / 8 - 1);
      buf[0] = buf[1] = buf[2] = buf[3] = 0;
      std::memcpy(&buf[4], &words, 4);
    }
    WorkerHello hello;
    ClientRequest req;
    (void)Decode(buf, &hello);
    (void)Decode(buf, &req);
  }
}

TEST(Hello, SignedHelloVerifiesOnlyOnItsOwnConnection) {
  FakeClock clock(int64_t{1'700'000'000'000} * 1'000'000);
  auto id = Ed25519PrivateKey::Generate().value();
  WorkerHello h = SampleHello();
  ASSERT_TRUE(SignWorkerHello(id, &h).ok());
  std::string curve = X25519PublicFromEd25519Public(id.public_key().bytes()).value();
  auto decoded = Decode<WorkerHello>(Encode(h)).value();
  EXPECT_TRUE(VerifyWorkerHello(decoded, curve, clock).ok());

  auto other = Ed25519PrivateKey::Generate().value();
  std::string other_curve = X25519PublicFromEd25519Public(other.public_key().bytes()).value();
  EXPECT_EQ(VerifyWorkerHello(decoded, other_curve, clock).code(), StatusCode::kUnauthenticated);

  WorkerHello tampered = decoded;
  tampered.max_tasks = 99;  // claim more capacity than signed
  EXPECT_EQ(VerifyWorkerHello(tampered, curve, clock).code(), StatusCode::kUnauthenticated);

  WorkerHello old_version = decoded;
  old_version.protocol_version = 9;
  EXPECT_EQ(VerifyWorkerHello(old_version, curve, clock).code(), StatusCode::kFailedPrecondition);

  clock.Advance(std::chrono::minutes(10));
  EXPECT_EQ(VerifyWorkerHello(decoded, curve, clock).code(), StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace cairn::wire

namespace cairn::wire {
namespace {

TEST(CodecControl, ClientVerbsRoundTrip) {
  std::vector<ClientRequest> reqs = {
      {1, 0, SubmitBody{"name: x\n", "job.yaml", ""}}, {2, 0, ListJobsBody{}},       {3, 0, JobStatusBody{"x-1"}},
      {4, 0, JobLogsBody{"x-1", 17}},             {5, 0, CancelBody{"x-1"}},     {6, 0, ListWorkersBody{}},
      {7, 0, EstimateBody{"name: x\n", "job.yaml", ""}}, {8, 0, TopUpBody{"entry"}},
  };
  for (const auto& r : reqs) {
    auto d = Decode<ClientRequest>(Encode(r));
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->body.index(), r.body.index());
  }
  EXPECT_EQ(std::get<JobLogsBody>(Decode<ClientRequest>(Encode(reqs[3]))->body).from_line, 17u);
  EXPECT_FALSE(Decode<ClientRequest>(Encode(ClientRequest{7, 0, CancelBody{""}})).ok());  // empty id

  JobInfo j{"x-1", "x", "benchmark", "running", 2, 1, 2, {"w1", "w2"}, "requeued", "alice", 123};
  WorkerInfo w{"w1", "box", "eu", "cpu", true, 4, 1, 1.5, 2000000, 250, 0.75, 3, 1, 40, "libtorch=1;threads=1", true, {Device{DeviceKind::kCuda, "H100", 80ull << 30, 132, "9.0", 700.5}}};
  std::vector<ClientReply> reps = {
      {1, SubmittedBody{"x-1"}}, {2, JobsBody{{j, j}}},        {3, j},
      {4, LogsChunk{{"a", "b"}, 2, true}}, {5, CancelledBody{"x-1"}}, {6, WorkersBody{{w}}},
  };
  for (const auto& r : reps) {
    auto d = Decode<ClientReply>(Encode(r));
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->body.index(), r.body.index());
  }
  auto jobs = std::get<JobsBody>(Decode<ClientReply>(Encode(reps[1]))->body);
  ASSERT_EQ(jobs.jobs.size(), 2u);
  EXPECT_EQ(jobs.jobs[1].workers, (std::vector<std::string>{"w1", "w2"}));
  EXPECT_EQ(std::get<WorkersBody>(Decode<ClientReply>(Encode(reps[5]))->body).workers[0].price_per_hour_micros,
            2'000'000u);
  const WorkerInfo back = std::get<WorkersBody>(Decode<ClientReply>(Encode(reps[5]))->body).workers[0];
  ASSERT_EQ(back.gpus.size(), 1u);
  EXPECT_EQ(back.gpus[0].name, "H100");
  EXPECT_DOUBLE_EQ(back.gpus[0].bf16_tflops, 700.5);
  EXPECT_TRUE(std::get<LogsChunk>(Decode<ClientReply>(Encode(reps[3]))->body).finished);
  // The submission carries its signed entry; an estimate its figures.
  auto sub = Decode<ClientRequest>(Encode(ClientRequest{9, 0, SubmitBody{"name: x\n", "job.yaml", "signed"}}));
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(std::get<SubmitBody>(sub->body).entry, "signed");
  EstimateReply e;
  e.datasets = {std::string(32, 'd')};
  e.workers = {w};
  e.hours = 0.25;
  e.compute_micros = 7;
  e.data_micros = 9;
  e.available_micros = -1;
  auto est = Decode<ClientReply>(Encode(ClientReply{10, e}));
  ASSERT_TRUE(est.ok()) << est.status();
  const auto& got = std::get<EstimateReply>(est->body);
  EXPECT_EQ(got.datasets, e.datasets);
  EXPECT_EQ(got.total_micros(), 16u);
  EXPECT_EQ(got.available_micros, -1);
  EstimateReply bad = e;
  bad.datasets = {"short"};
  EXPECT_NE(Decode<ClientReply>(Encode(ClientReply{11, bad})).status().message().find("32 bytes"), std::string::npos);
  j.budget_micros = 5'000'000;
  j.spent_micros = 1'250'000;
  auto ji = Decode<ClientReply>(Encode(ClientReply{12, j}));
  EXPECT_EQ(std::get<JobInfo>(ji->body).spent_micros, 1'250'000u);
}

TEST(CodecControl, TaskProtocolRoundTripAndLimits) {
  TaskAssign a{"x-1", 2, 1, 2, "name: x\n", 7, {"w1", "w2"}, ":29500", false, "abc", std::string(64, 1), std::string(32, 2)};
  auto d = Decode<TaskAssign>(Encode(a));
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->rank, 1u);
  EXPECT_EQ(d->rendezvous, ":29500");
  EXPECT_EQ(d->resume_round, 7u);
  EXPECT_EQ(d->peers[1], "w2");
  TaskAssign bad = a;
  bad.rank = 2;
  EXPECT_NE(Decode<TaskAssign>(Encode(bad)).status().message().find("not below worldSize"), std::string::npos);
  bad = a;
  bad.spec = std::string(kMaxSpecBytes + 1, 'x');
  EXPECT_FALSE(Decode<TaskAssign>(Encode(bad)).ok());
  // A worker joining a running elastic job carries a uid above the world.
  EXPECT_EQ(d->secret, "abc");
  EXPECT_EQ(d->seat_ticket, std::string(64, 1));
  EXPECT_EQ(d->operator_key, std::string(32, 2));
  bad = a;
  bad.seat_ticket = "short";
  EXPECT_NE(Decode<TaskAssign>(Encode(bad)).status().message().find("seatTicket"), std::string::npos);
  bad = a;
  bad.operator_key = std::string(33, 1);
  EXPECT_NE(Decode<TaskAssign>(Encode(bad)).status().message().find("operatorKey"), std::string::npos);
  TaskAssign join{"x-1", 2, 5, 2, "name: x\n", 0, {}, ":29500", true, "", "", ""};
  auto j = Decode<TaskAssign>(Encode(join));
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_TRUE(j->joining);
  EXPECT_EQ(j->rank, 5u);
  bad = join;
  bad.rendezvous = "";
  EXPECT_NE(Decode<TaskAssign>(Encode(bad)).status().message().find("joining task needs"), std::string::npos);
  bad = join;
  bad.world_size = 1;
  EXPECT_FALSE(Decode<TaskAssign>(Encode(bad)).ok());

  auto sv = Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskServing{"10.0.0.5:8123", "text-generation"}, 0}));
  ASSERT_TRUE(sv.ok()) << sv.status();
  EXPECT_EQ(std::get<TaskServing>(sv->body).endpoint, "10.0.0.5:8123");
  for (const char* bad_endpoint : {"", "host", ":80", "host:", "host:0", "host:99999", "host:8a"}) {
    EXPECT_FALSE(Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskServing{bad_endpoint, "tensor"}, 0})).ok()) << bad_endpoint;
  }

  auto r = Decode<TaskRevoke>(Encode(TaskRevoke{"x-1", 2, "worker lost"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->reason, "worker lost");
  auto u = Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskLogLine{"step 10 loss 0.5"}, 0}));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(std::get<TaskLogLine>(u->body).line, "step 10 loss 0.5");
  auto f = Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskFinished{true, "12.5 GFLOP/s", 0}, 0}));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(std::get<TaskFinished>(f->body).ok);
  EXPECT_FALSE(Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskLogLine{std::string(kMaxLogLineBytes + 1, 'l')}, 0})).ok());
  EXPECT_EQ(Decode<Goodbye>(Encode(Goodbye{"ctrl-c"}))->reason, "ctrl-c");
  auto rc = Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskReceipt{std::string("\0signed\xff", 8)}, 0}));
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(std::get<TaskReceipt>(rc->body).entry, std::string("\0signed\xff", 8));
  EXPECT_FALSE(Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskReceipt{std::string(kMaxReceiptBytes + 1, 'r')}, 0})).ok());
}

// Delivery (docs/wire.md): outbox sequence numbers, acks, task codes and
// the task lists workers reconcile with.
TEST(CodecDelivery, SequencesAcksCodesAndTaskLists) {
  TaskUpdate u{"x-1", 2, TaskReceipt{"entry"}, 77};
  auto du = Decode<TaskUpdate>(Encode(u));
  ASSERT_TRUE(du.ok()) << du.status();
  EXPECT_EQ(du->sequence, 77u);

  auto f = Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskFinished{false, "coordinator away", 14}, 5}));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(std::get<TaskFinished>(f->body).code, 14);
  // ok and code must agree, and a code must be a canonical one.
  EXPECT_NE(Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskFinished{true, "", 3}, 0})).status().message().find("disagree"),
            std::string::npos);
  EXPECT_FALSE(Decode<TaskUpdate>(Encode(TaskUpdate{"x-1", 2, TaskFinished{false, "", 99}, 0})).ok());

  auto a = Decode<Ack>(Encode(Ack{77, 14, "ledger stopped"}));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->sequence, 77u);
  EXPECT_EQ(a->code, 14);
  EXPECT_EQ(a->message, "ledger stopped");
  EXPECT_FALSE(Decode<Ack>(Encode(Ack{0, 0, ""})).ok());
  EXPECT_FALSE(Decode<Ack>(Encode(Ack{1, 17, ""})).ok());
  EXPECT_FALSE(Decode<Ack>(Encode(Ack{1, 3, std::string(kMaxErrorMessageBytes + 1, 'm')})).ok());

  Heartbeat h{1, 2, 1, {TaskRef{"j-1", 3, false, "", ""}, TaskRef{"s-1", 1, false, "10.0.0.2:8000", "tensor"}}, {}};
  auto dh = Decode<Heartbeat>(Encode(h));
  ASSERT_TRUE(dh.ok()) << dh.status();
  EXPECT_EQ(dh->tasks, h.tasks);
  Heartbeat many{1, 2, 0, std::vector<TaskRef>(65, TaskRef{"j", 1, false, "", ""}), {}};
  EXPECT_EQ(Decode<Heartbeat>(Encode(many)).status().code(), StatusCode::kOutOfRange);
  Heartbeat blank{1, 2, 0, {TaskRef{"", 1, false, "", ""}}, {}};
  EXPECT_FALSE(Decode<Heartbeat>(Encode(blank)).ok());
  Heartbeat control{1, 2, 0, {TaskRef{"j\n", 1, false, "", ""}}, {}};
  EXPECT_FALSE(Decode<Heartbeat>(Encode(control)).ok());

  WorkerHello hello = SampleHello();
  hello.identity_key = std::string(32, 'k');
  hello.signature = std::string(64, 's');
  hello.tasks = {TaskRef{"j-1", 3, true, "", ""}};
  auto dhello = Decode<WorkerHello>(Encode(hello));
  ASSERT_TRUE(dhello.ok()) << dhello.status();
  EXPECT_EQ(dhello->tasks, hello.tasks);
  // The task list is covered by the hello's signature.
  WorkerHello other = hello;
  other.tasks.clear();
  EXPECT_NE(WorkerHelloSigningBytes(hello), WorkerHelloSigningBytes(other));
}

}  // namespace
}  // namespace cairn::wire
