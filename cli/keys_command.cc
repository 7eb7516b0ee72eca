// cairn keys new|show: create and inspect identity key files.
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>
#include <zmq.h>

#include "cli/commands.h"
#include "runtime/base/encoding.h"
#include "runtime/crypto/key_file.h"
#include "runtime/crypto/x25519.h"

namespace cairn::cli {
namespace {

struct KeysOptions {
  std::string out;
  bool force = false;
  std::string file;
  bool json = false;
};

std::string Z85(const std::string& raw32) {
  char buf[41];
  if (zmq_z85_encode(buf, reinterpret_cast<const uint8_t*>(raw32.data()), raw32.size()) == nullptr) return "";
  return buf;
}

Status PrintKey(const std::string& path, const Ed25519PrivateKey& key, bool json) {
  const Ed25519PublicKey& pub = key.public_key();
  ASSIGN_OR_RETURN(std::string curve, X25519PublicFromEd25519Public(pub.bytes()));
  if (json) {
    nlohmann::json j = {{"file", path},
                        {"id", pub.KeyId()},
                        {"ed25519_public", Base64Encode(pub.bytes())},
                        {"curve_public_z85", Z85(curve)},
                        {"curve_public_hex", HexEncode(curve)}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("key file        %s\n", path.c_str());
    std::printf("id              %s\n", pub.KeyId().c_str());
    std::printf("ed25519 public  %s\n", Base64Encode(pub.bytes()).c_str());
    std::printf("curve public    %s (Z85)\n", Z85(curve).c_str());
  }
  return OkStatus();
}

Status New(const KeysOptions& o) {
  std::string path = o.out.empty() ? DefaultKeyPath() : o.out;
  ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  RETURN_IF_ERROR(SaveKeyFile(key, path, o.force));
  std::fprintf(stderr, "created a new identity (mode 0600); keep this file secret and backed up\n");
  return PrintKey(path, key, o.json);
}

Status Show(const KeysOptions& o) {
  std::string path = o.file.empty() ? DefaultKeyPath() : o.file;
  ASSIGN_OR_RETURN(Ed25519PrivateKey key, LoadKeyFile(path));
  return PrintKey(path, key, o.json);
}

}  // namespace

void RegisterKeysCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<KeysOptions>();
  CLI::App* keys = app.add_subcommand("keys", "Create and inspect Ed25519 identity keys");
  keys->require_subcommand(1);

  CLI::App* create = keys->add_subcommand("new", "Generate a new identity key file (refuses to overwrite one)");
  create->add_option("--out", opts->out, "Where to write the key (default: $CAIRN_HOME/identity.key)");
  create->add_flag("--force", opts->force, "Replace an existing key file (its identity is lost)");
  create->add_flag("--json", opts->json, "Print the result as JSON");
  create->callback([opts, exit_code] { *exit_code = ReportStatus(New(*opts)); });

  CLI::App* show = keys->add_subcommand("show", "Print a key file's public key, id and CURVE key");
  show->add_option("file", opts->file, "Key file (default: $CAIRN_HOME/identity.key)");
  show->add_flag("--json", opts->json, "Print as JSON");
  show->callback([opts, exit_code] { *exit_code = ReportStatus(Show(*opts)); });
  RegisterApiKeyCommand(keys, exit_code);
}

}  // namespace cairn::cli
