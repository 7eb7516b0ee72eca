#include "worker/outbox.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "runtime/base/log.h"
#include "runtime/base/sqlite.h"
#include "runtime/wire/codec.h"

namespace cairn::worker {
namespace {

constexpr int kApplicationId = 0x63726e6f;  // "crno"

const char* KindOf(const wire::TaskUpdate& u) {
  if (std::holds_alternative<wire::TaskReceipt>(u.body)) return "receipt";
  if (std::holds_alternative<wire::TaskFinished>(u.body)) return "finished";
  if (std::holds_alternative<wire::TaskServing>(u.body)) return "serving";
  return "log";
}

StatusOr<wire::TaskUpdate> DecodeStored(const std::string& payload, uint64_t sequence) {
  auto u = wire::Decode<wire::TaskUpdate>(payload);
  if (!u.ok()) return DataLossError("outbox record " + std::to_string(sequence) + " does not decode: " + u.status().message());
  u->sequence = sequence;
  return u;
}

}  // namespace

StatusOr<std::unique_ptr<Outbox>> Outbox::Open(const std::string& path, const Clock* clock) {
  const std::string lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return UnavailableError("cannot open " + lock_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return FailedPreconditionError("another worker is using " + path +
                                   " (one worker per CAIRN_HOME; give each its own home or --state-dir)");
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status s = db ? SqlError(db, "open " + path) : InternalError("open " + path);
    sqlite3_close(db);
    ::close(fd);
    return s;
  }
  std::unique_ptr<Outbox> box(new Outbox(db, fd, clock));
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(SqlExec(db, "PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(SqlExec(db, "PRAGMA synchronous=FULL"));  // these records are money
  ASSIGN_OR_RETURN(SqliteHeader header, ReadSqliteHeader(db, path));
  const int64_t app = header.application_id, tables = header.tables, version = header.user_version;
  if (tables > 0 && app != kApplicationId) return FailedPreconditionError(path + " is not a cairn worker outbox");
  if (tables > 0 && version != 1) {
    return FailedPreconditionError(path + " has outbox version " + std::to_string(version) + "; this cairn reads 1");
  }
  if (tables == 0) {
    RETURN_IF_ERROR(SqlExec(db, "PRAGMA application_id=" + std::to_string(kApplicationId)));
    RETURN_IF_ERROR(SqlExec(db, "PRAGMA user_version=1"));
  }
  RETURN_IF_ERROR(SqlExec(db,
                          "CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, job TEXT NOT NULL, "
                          "attempt INTEGER NOT NULL, kind TEXT NOT NULL, payload BLOB NOT NULL, blob BLOB, "
                          "uploaded INTEGER NOT NULL, created_ms INTEGER NOT NULL, acked_ms INTEGER, code INTEGER, "
                          "result TEXT)"));
  RETURN_IF_ERROR(SqlExec(db, "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (acked_ms, seq)"));
  RETURN_IF_ERROR(box->LoadIndex());
  return box;
}

Outbox::~Outbox() {
  sqlite3_close(db_);
  ::close(lock_fd_);  // releases the lock
}

Status Outbox::LoadIndex() {
  MutexLock lock(&mu_);
  SqlStatement st(db_, "SELECT job, attempt, kind FROM outbox WHERE acked_ms IS NULL");
  RETURN_IF_ERROR(st.Prepared("read the outbox"));
  pending_ = 0;
  unacked_finished_.clear();
  while (st.Step() == SQLITE_ROW) {
    ++pending_;
    if (st.ColText(2) == "finished") unacked_finished_.insert({st.ColText(0), static_cast<uint32_t>(st.ColInt(1))});
  }
  return OkStatus();
}

StatusOr<uint64_t> Outbox::Push(wire::TaskUpdate update, std::string blob) {
  update.sequence = 0;
  const std::string payload = wire::Encode(update);
  MutexLock lock(&mu_);
  SqlStatement st(db_,
                  "INSERT INTO outbox (job, attempt, kind, payload, blob, uploaded, created_ms) VALUES (?,?,?,?,?,?,?)");
  RETURN_IF_ERROR(st.Prepared("prepare outbox push"));
  st.Text(1, update.job_id);
  st.Int(2, update.attempt);
  st.Text(3, KindOf(update));
  st.Blob(4, payload);
  if (!blob.empty()) st.Blob(5, blob);
  st.Int(6, blob.empty() ? 1 : 0);
  st.Int(7, clock_->NowUnixMillis());
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "outbox push");
  ++pending_;
  if (std::holds_alternative<wire::TaskFinished>(update.body)) unacked_finished_.insert({update.job_id, update.attempt});
  return static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));
}

std::optional<OutboxRecord> Outbox::Head() {
  for (;;) {
    uint64_t seq = 0;
    StatusOr<wire::TaskUpdate> u = InternalError("");
    {
      MutexLock lock(&mu_);
      SqlStatement st(db_, "SELECT seq, payload, uploaded FROM outbox WHERE acked_ms IS NULL ORDER BY seq LIMIT 1");
      if (!st.Prepared("").ok() || st.Step() != SQLITE_ROW || st.ColInt(2) == 0) return std::nullopt;
      seq = static_cast<uint64_t>(st.ColInt(0));
      u = DecodeStored(st.ColBlob(1), seq);
    }
    if (u.ok()) return OutboxRecord{seq, std::move(*u)};
    // A damaged record cannot be sent; it must not hold up the rest.
    CAIRN_LOG_ERROR("outbox: skipping record {}: {}", seq, u.status().ToString());
    if (!Ack(seq, static_cast<uint16_t>(StatusCode::kDataLoss), std::string(u.status().message())).ok()) return std::nullopt;
  }
}

std::optional<OutboxUpload> Outbox::NextUpload() const {
  MutexLock lock(&mu_);
  SqlStatement st(db_, "SELECT seq, blob FROM outbox WHERE acked_ms IS NULL AND uploaded = 0 ORDER BY seq LIMIT 1");
  if (!st.Prepared("").ok() || st.Step() != SQLITE_ROW) return std::nullopt;
  return OutboxUpload{static_cast<uint64_t>(st.ColInt(0)), st.ColBlob(1)};
}

Status Outbox::MarkUploaded(uint64_t sequence) {
  MutexLock lock(&mu_);
  // The blob is on the coordinator now: drop our copy.
  SqlStatement st(db_, "UPDATE outbox SET uploaded = 1, blob = NULL WHERE seq = ?");
  RETURN_IF_ERROR(st.Prepared("prepare outbox upload mark"));
  st.Int(1, static_cast<int64_t>(sequence));
  return st.Step() == SQLITE_DONE ? OkStatus() : SqlError(db_, "outbox upload mark");
}

Status Outbox::Ack(uint64_t sequence, uint16_t code, const std::string& message) {
  MutexLock lock(&mu_);
  std::string job, kind;
  int64_t attempt = 0;
  {
    SqlStatement q(db_, "SELECT job, attempt, kind FROM outbox WHERE seq = ? AND acked_ms IS NULL");
    RETURN_IF_ERROR(q.Prepared("prepare outbox lookup"));
    q.Int(1, static_cast<int64_t>(sequence));
    if (q.Step() != SQLITE_ROW) return OkStatus();  // unknown or already acked: a duplicate Ack
    job = q.ColText(0);
    attempt = q.ColInt(1);
    kind = q.ColText(2);
  }
  SqlStatement st(db_, "UPDATE outbox SET acked_ms = ?, code = ?, result = ?, blob = NULL WHERE seq = ?");
  RETURN_IF_ERROR(st.Prepared("prepare outbox ack"));
  st.Int(1, clock_->NowUnixMillis());
  st.Int(2, code);
  st.Text(3, message);
  st.Int(4, static_cast<int64_t>(sequence));
  if (st.Step() != SQLITE_DONE) return SqlError(db_, "outbox ack");
  if (pending_ > 0) --pending_;
  if (kind == "finished") unacked_finished_.erase({job, static_cast<uint32_t>(attempt)});
  // Keep the newest kMaxHistory acknowledged records as the audit trail.
  if (sequence % 1024 == 0) {
    SqlStatement prune(db_,
                       "DELETE FROM outbox WHERE acked_ms IS NOT NULL AND seq <= "
                       "(SELECT seq FROM outbox WHERE acked_ms IS NOT NULL ORDER BY seq DESC LIMIT 1 OFFSET ?)");
    RETURN_IF_ERROR(prune.Prepared("prepare outbox prune"));
    prune.Int(1, static_cast<int64_t>(kMaxHistory));
    if (prune.Step() != SQLITE_DONE) return SqlError(db_, "outbox prune");
  }
  return OkStatus();
}

size_t Outbox::pending() const {
  MutexLock lock(&mu_);
  return pending_;
}

std::set<std::pair<std::string, uint32_t>> Outbox::UnackedFinished() const {
  MutexLock lock(&mu_);
  return unacked_finished_;
}

StatusOr<std::vector<OutboxHistoryItem>> Outbox::History() const {
  MutexLock lock(&mu_);
  SqlStatement st(db_, "SELECT seq, payload, acked_ms, code, result, created_ms, acked_ms IS NOT NULL FROM outbox ORDER BY seq");
  RETURN_IF_ERROR(st.Prepared("prepare outbox history"));
  std::vector<OutboxHistoryItem> out;
  while (st.Step() == SQLITE_ROW) {
    OutboxHistoryItem item;
    item.sequence = static_cast<uint64_t>(st.ColInt(0));
    ASSIGN_OR_RETURN(item.update, DecodeStored(st.ColBlob(1), item.sequence));
    item.acked = st.ColInt(6) != 0;
    item.acked_unix_ms = st.ColInt(2);
    item.code = static_cast<uint16_t>(st.ColInt(3));
    item.result = st.ColText(4);
    item.created_unix_ms = st.ColInt(5);
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace cairn::worker
