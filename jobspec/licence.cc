#include "jobspec/licence.h"

#include <cctype>
#include <utility>

namespace cairn::jobspec {
namespace {

enum Flags : unsigned { kPermissive = 1, kShareAlike = 2, kNonCommercial = 4, kNoDerivatives = 8 };

struct Row {
  const char* id;
  unsigned flags;
};

// One row per known identifier; the header comment and docs/licences.md list
// the same rows (licence_test checks the docs name every one).
constexpr Row kRows[] = {
    // Permissive.
    {"MIT", kPermissive},
    {"MIT-0", kPermissive},
    {"BSD-2-Clause", kPermissive},
    {"BSD-3-Clause", kPermissive},
    {"BSD-4-Clause", kPermissive},
    {"Apache-2.0", kPermissive},
    {"ISC", kPermissive},
    {"Zlib", kPermissive},
    {"BSL-1.0", kPermissive},
    {"0BSD", kPermissive},
    {"Unlicense", kPermissive},
    {"CC0-1.0", kPermissive},
    {"CC-BY-3.0", kPermissive},
    {"CC-BY-4.0", kPermissive},
    {"PDDL-1.0", kPermissive},
    {"ODC-By-1.0", kPermissive},
    {"CDLA-Permissive-1.0", kPermissive},
    {"CDLA-Permissive-2.0", kPermissive},
    // Share-alike (copyleft; weak copyleft counts too: a model is one work).
    {"CC-BY-SA-3.0", kShareAlike},
    {"CC-BY-SA-4.0", kShareAlike},
    {"GPL-2.0-only", kShareAlike},
    {"GPL-2.0-or-later", kShareAlike},
    {"GPL-3.0-only", kShareAlike},
    {"GPL-3.0-or-later", kShareAlike},
    {"AGPL-3.0-only", kShareAlike},
    {"AGPL-3.0-or-later", kShareAlike},
    {"LGPL-2.1-only", kShareAlike},
    {"LGPL-2.1-or-later", kShareAlike},
    {"LGPL-3.0-only", kShareAlike},
    {"LGPL-3.0-or-later", kShareAlike},
    {"MPL-2.0", kShareAlike},
    {"EPL-2.0", kShareAlike},
    {"ODbL-1.0", kShareAlike},
    {"CDLA-Sharing-1.0", kShareAlike},
    // Non-commercial.
    {"CC-BY-NC-3.0", kNonCommercial},
    {"CC-BY-NC-4.0", kNonCommercial},
    {"CC-BY-NC-SA-3.0", kNonCommercial | kShareAlike},
    {"CC-BY-NC-SA-4.0", kNonCommercial | kShareAlike},
    // No derivatives.
    {"CC-BY-ND-3.0", kNoDerivatives},
    {"CC-BY-ND-4.0", kNoDerivatives},
    {"CC-BY-NC-ND-3.0", kNonCommercial | kNoDerivatives},
    {"CC-BY-NC-ND-4.0", kNonCommercial | kNoDerivatives},
    // All rights reserved (cairn's name, not SPDX's).
    {"proprietary", 0},
};

constexpr char kProprietary[] = "proprietary";
constexpr char kOptIn[] = "set allow_unknown_licenses: true to accept it";

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool SameId(const std::string& a, const std::string& b) { return Lower(Trim(a)) == Lower(Trim(b)); }

// An SPDX expression ("MIT OR Apache-2.0", "(GPL-2.0-only WITH ...)"): not evaluated.
bool IsExpression(const std::string& id) {
  return id.find_first_of(" \t()") != std::string::npos;
}

// Why an identifier is unknown, for the UNKNOWN and OUTPUT rules.
std::string UnknownReason(const std::string& id) {
  if (IsExpression(id)) return "an SPDX expression is not evaluated; use a single identifier from the table or " + std::string(kOptIn);
  if (Lower(id).rfind("licenseref-", 0) == 0) return "a LicenseRef-* licence is not in the table; " + std::string(kOptIn);
  return "not in the licence table (docs/licences.md); " + std::string(kOptIn);
}

std::string Subject(const LicensedInput& in) {
  return in.kind + " " + in.name + (Trim(in.license).empty() ? " has no licence" : " is " + in.license);
}

Status Refuse(const LicensedInput& in, const char* rule, const std::string& why) {
  return FailedPreconditionError(Subject(in) + ": rule " + rule + " (" + why + ")");
}

}  // namespace

const std::vector<LicenceInfo>& LicenceTable() {
  static const std::vector<LicenceInfo>* table = [] {
    auto* t = new std::vector<LicenceInfo>;
    for (const Row& r : kRows) {
      t->push_back({r.id, true, (r.flags & kNonCommercial) != 0, (r.flags & kShareAlike) != 0,
                    (r.flags & kNoDerivatives) != 0, (r.flags & kPermissive) != 0});
    }
    return t;
  }();
  return *table;
}

LicenceInfo LookUpLicence(const std::string& spdx_id) {
  const std::string want = Lower(Trim(spdx_id));
  if (!want.empty() && !IsExpression(want)) {
    for (const LicenceInfo& row : LicenceTable()) {
      if (Lower(row.id) == want) return row;
    }
  }
  LicenceInfo unknown;
  unknown.id = spdx_id;
  return unknown;
}

Status CheckLicences(const std::vector<LicensedInput>& inputs, const OutputTerms& output, bool allow_unknown) {
  // UNKNOWN: every input's identifier is in the table, unless opted out.
  std::vector<std::pair<const LicensedInput*, LicenceInfo>> known;
  for (const LicensedInput& in : inputs) {
    LicenceInfo info = LookUpLicence(in.license);
    if (info.known) {
      known.emplace_back(&in, info);
    } else if (!allow_unknown) {
      std::string why = Trim(in.license).empty() ? "every input needs a licence; " + std::string(kOptIn)
                                                 : UnknownReason(Trim(in.license));
      return InvalidArgumentError(Subject(in) + ": rule UNKNOWN (" + why + ")");
    }
  }
  // OUTPUT: the output's own licence; empty means proprietary.
  const std::string out_id = Trim(output.license).empty() ? kProprietary : Trim(output.license);
  const LicenceInfo out = LookUpLicence(out_id);
  if (!out.known && !allow_unknown) {
    return InvalidArgumentError("output licence " + out_id + ": rule OUTPUT (" + UnknownReason(out_id) + ")");
  }
  const std::string got = Trim(output.license).empty() ? std::string("none (proprietary)") : out_id;

  for (size_t i = 0; i < known.size(); ++i) {
    const auto& [in, info] = known[i];
    if (info.no_derivatives) {
      return Refuse(*in, "ND", "a no-derivatives input cannot train a model at all: a model is a derivative");
    }
    if (info.non_commercial) {
      if (output.priced) return Refuse(*in, "NC", "a non-commercial input cannot feed a model offered at a price");
      if (!out.non_commercial) {
        return Refuse(*in, "NC", "a non-commercial input needs a non-commercial output licence, got " + got);
      }
    }
    if (info.share_alike) {
      // A conflict between two share-alike inputs is named before either's demand on the output.
      for (size_t j = i + 1; j < known.size(); ++j) {
        const auto& [other, other_info] = known[j];
        if (other_info.share_alike && !SameId(other_info.id, info.id)) {
          return Refuse(*other, "SA", "two share-alike inputs with different licences conflict: " + Subject(*in) +
                                          "; no output licence can be both");
        }
      }
      if (!SameId(out_id, info.id)) {
        return Refuse(*in, "SA", "a share-alike input needs the output licensed " + info.id + " too, got " + got);
      }
    }
    if (info.id == kProprietary && !SameId(out_id, kProprietary)) {
      return Refuse(*in, "PROPRIETARY", "a proprietary input cannot be relicensed: the output must be proprietary (or "
                                        "leave output.license unset), got " + got);
    }
  }
  return OkStatus();
}

}  // namespace cairn::jobspec
