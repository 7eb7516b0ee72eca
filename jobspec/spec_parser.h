// The spec parser's helpers, shared by jobspec/*.cc (not a public header).
// Thread safety: a Parser is a value.
#ifndef CAIRN_JOBSPEC_SPEC_PARSER_H_
#define CAIRN_JOBSPEC_SPEC_PARSER_H_

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "jobspec/job_spec.h"
#include "runtime/base/encoding.h"

namespace cairn::jobspec::internal {

// Errors carry "source:line: field: message".
class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Status Error(const YAML::Node& at, const std::string& field, const std::string& message) const {
    int line = at.IsDefined() ? at.Mark().line + 1 : 0;
    std::string where = source_ + (line > 0 ? ":" + std::to_string(line) : "");
    return InvalidArgumentError(where + ": " + field + ": " + message);
  }

  Status Keys(const YAML::Node& map, const std::string& prefix, const std::set<std::string>& allowed) const {
    if (!map.IsMap()) return Error(map, prefix.empty() ? "spec" : prefix, "must be a mapping");
    for (const auto& kv : map) {
      std::string key = kv.first.as<std::string>("");
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return Error(kv.first, prefix + key, "unknown field (expected one of: " + list + ")");
      }
    }
    return OkStatus();
  }

  StatusOr<std::string> Scalar(const YAML::Node& n, const std::string& field) const {
    if (!n.IsScalar()) return Error(n, field, "must be a single value");
    return n.Scalar();
  }

  StatusOr<uint64_t> Integer(const YAML::Node& n, const std::string& field, uint64_t lo, uint64_t hi) const {
    ASSIGN_OR_RETURN(std::string s, Scalar(n, field));
    std::string range = "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) {
      return Error(n, field, range + ", got '" + s + "'");
    }
    uint64_t v = std::stoull(s);
    if (v < lo || v > hi) return Error(n, field, range + ", got " + s);
    return v;
  }

  // An account (an Ed25519 public key as 64 hex digits), lowercased in place.
  Status AccountHex(const YAML::Node& at, const std::string& field, std::string* account) const {
    auto raw = DecodeAccount(*account);
    if (!raw.ok()) return Error(at, field, std::string(raw.status().message()));
    *account = HexEncode(*raw);  // lowercase
    return OkStatus();
  }

  // A non-negative amount of credits, returned in micro-credits.
  StatusOr<uint64_t> Credits(const YAML::Node& n, const std::string& field) const {
    ASSIGN_OR_RETURN(std::string s, Scalar(n, field));
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0 || v > 1e12) {
      return Error(n, field, "must be a non-negative number of credits, got '" + s + "'");
    }
    return static_cast<uint64_t>(std::llround(v * 1e6));
  }

  StatusOr<std::vector<std::string>> StringList(const YAML::Node& n, const std::string& field) const {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) return Error(n, field, "must be a list");
    for (size_t i = 0; i < n.size(); ++i) {
      ASSIGN_OR_RETURN(std::string s, Scalar(n[i], field + "[" + std::to_string(i) + "]"));
      if (s.empty()) return Error(n[i], field + "[" + std::to_string(i) + "]", "is empty");
      out.push_back(s);
    }
    return out;
  }

  StatusOr<std::map<std::string, std::string>> ScalarMap(const YAML::Node& n, const std::string& field) const {
    std::map<std::string, std::string> out;
    if (!n.IsMap()) return Error(n, field, "must be a mapping");
    for (const auto& kv : n) {
      std::string key = kv.first.as<std::string>("");
      ASSIGN_OR_RETURN(out[key], Scalar(kv.second, field + "." + key));
    }
    return out;
  }

  StatusOr<JobSpec> Parse(const YAML::Node& root) const;
  // verify: (train jobs) and target: (kind: verify), jobspec/verify_spec.cc.
  Status ParseVerify(const YAML::Node& root, JobSpec* spec) const;

 private:
  std::string source_;
};

}  // namespace cairn::jobspec::internal

#endif  // CAIRN_JOBSPEC_SPEC_PARSER_H_
