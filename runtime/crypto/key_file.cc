#include "runtime/crypto/key_file.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "runtime/base/encoding.h"

namespace cairn {
namespace {

Status MakeDirs(const std::string& dir) {
  if (dir.empty()) return OkStatus();
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos == dir.size() || dir[pos] == '/') {
      std::string prefix = dir.substr(0, pos);
      if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoToStatus(errno, "mkdir " + prefix);
    }
  }
  return OkStatus();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

Status WriteAll(int fd, const std::string& data, const std::string& what) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "write " + what);
    }
    off += static_cast<size_t>(n);
  }
  return OkStatus();
}

StatusOr<std::string> Field(const std::string& line, const std::string& name, int line_no) {
  std::string prefix = name + ": ";
  if (line.compare(0, prefix.size(), prefix) != 0) {
    return DataLossError("line " + std::to_string(line_no) + ": expected '" + name + ": <base64>'");
  }
  auto value = Base64Decode(line.substr(prefix.size()));
  if (!value.ok()) return DataLossError("line " + std::to_string(line_no) + ": " + value.status().message());
  if (value->size() != 32) {
    return DataLossError("line " + std::to_string(line_no) + ": " + name + " must be 32 bytes, got " +
                         std::to_string(value->size()));
  }
  return value;
}

}  // namespace

std::string CairnHome() {
  if (const char* h = std::getenv("CAIRN_HOME"); h != nullptr && *h != '\0') return h;
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.cairn";
  return ".";
}

std::string DefaultKeyPath() { return CairnHome() + "/identity.key"; }

std::string FormatKeyFile(const Ed25519PrivateKey& key) {
  return std::string(kKeyFileMagic) + "\n" + "ed25519-seed: " + Base64Encode(key.seed()) + "\n" +
         "ed25519-public: " + Base64Encode(key.public_key().bytes()) + "\n";
}

StatusOr<Ed25519PrivateKey> ParseKeyFile(const std::string& text) {
  std::string lines[3];
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      return DataLossError("truncated key file: expected 3 lines ending in newline, got " + std::to_string(i));
    }
    lines[i] = text.substr(start, nl - start);
    start = nl + 1;
  }
  if (start != text.size()) return DataLossError("unexpected data after line 3");
  if (lines[0] != kKeyFileMagic) {
    if (lines[0].rfind("cairn-identity-key ", 0) == 0) {
      return DataLossError("unsupported key file version '" + lines[0] + "' (this build reads '" +
                           kKeyFileMagic + "')");
    }
    return DataLossError("not a cairn key file: first line must be '" + std::string(kKeyFileMagic) + "'");
  }
  ASSIGN_OR_RETURN(std::string seed, Field(lines[1], "ed25519-seed", 2));
  ASSIGN_OR_RETURN(std::string pub, Field(lines[2], "ed25519-public", 3));
  auto key = Ed25519PrivateKey::FromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  if (!key.ok()) return key.status();
  if (key->public_key().bytes() != pub) {
    return DataLossError("public key does not match the seed (file corrupted or edited)");
  }
  return key;
}

Status SaveKeyFile(const Ed25519PrivateKey& key, const std::string& path, bool overwrite) {
  if (path.empty()) return InvalidArgumentError("key file path is empty");
  struct stat st {};
  if (!overwrite && stat(path.c_str(), &st) == 0) {
    return AlreadyExistsError("key file " + path + " already exists; refusing to replace an identity");
  }
  std::string dir = DirName(path);
  RETURN_IF_ERROR(MakeDirs(dir));
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, "create " + tmp);
  std::string text = FormatKeyFile(key);
  Status s = WriteAll(fd, text, tmp);
  OPENSSL_cleanse(text.data(), text.size());
  if (s.ok() && fsync(fd) != 0) s = ErrnoToStatus(errno, "fsync " + tmp);
  close(fd);
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) s = ErrnoToStatus(errno, "rename to " + path);
  if (!s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return OkStatus();
}

StatusOr<Ed25519PrivateKey> LoadKeyFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return NotFoundError("no key file at " + path + " (create one with `cairn keys new`)");
    }
    return ErrnoToStatus(errno, "open " + path);
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    close(fd);
    return ErrnoToStatus(errno, "stat " + path);
  }
  if ((st.st_mode & 077) != 0) {
    close(fd);
    char mode[8];
    snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return PermissionDeniedError("key file " + path + " is accessible by group or others (mode " + mode +
                                 "); run: chmod 600 " + path);
  }
  if (st.st_size > 4096) {
    close(fd);
    return DataLossError("key file " + path + " is too large to be a cairn key (" +
                         std::to_string(st.st_size) + " bytes)");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = read(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(fd);
  text.resize(off);
  auto key = ParseKeyFile(text);
  OPENSSL_cleanse(text.data(), text.size());
  if (!key.ok()) return key.status().WithContext(path);
  return key;
}

}  // namespace cairn
