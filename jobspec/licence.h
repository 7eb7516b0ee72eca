// Licence compatibility: the licences of a job's inputs (its datasets and a
// fine-tune's parent model) checked against the licence and price terms of
// the model it makes, at submit, against one table (docs/licences.md).
//
// The table (identifiers compare case-insensitively, as SPDX's do):
//   permissive      MIT, MIT-0, BSD-2-Clause, BSD-3-Clause, BSD-4-Clause,
//                   Apache-2.0, ISC, Zlib, BSL-1.0, 0BSD, Unlicense, CC0-1.0,
//                   CC-BY-3.0, CC-BY-4.0, PDDL-1.0, ODC-By-1.0,
//                   CDLA-Permissive-1.0, CDLA-Permissive-2.0
//   share-alike     CC-BY-SA-3.0, CC-BY-SA-4.0, GPL-2.0-only, GPL-2.0-or-later,
//                   GPL-3.0-only, GPL-3.0-or-later, AGPL-3.0-only,
//                   AGPL-3.0-or-later, LGPL-2.1-only, LGPL-2.1-or-later,
//                   LGPL-3.0-only, LGPL-3.0-or-later, MPL-2.0, EPL-2.0,
//                   ODbL-1.0, CDLA-Sharing-1.0
//                   (weak copyleft counts as share-alike: a model is one work)
//   non-commercial  CC-BY-NC-3.0, CC-BY-NC-4.0,
//                   CC-BY-NC-SA-3.0, CC-BY-NC-SA-4.0 (also share-alike)
//   no-derivatives  CC-BY-ND-3.0, CC-BY-ND-4.0,
//                   CC-BY-NC-ND-3.0, CC-BY-NC-ND-4.0 (also non-commercial)
//   proprietary     "proprietary": cairn's name for all rights reserved (a
//                   model registered without a licence is registered so)
// Anything else is unknown: LicenseRef-*, deprecated ids (GPL-3.0, GPL-2.0+),
// and SPDX expressions (OR / AND / WITH, parentheses), which are not
// evaluated: register one identifier, or opt in with allow_unknown.
//
// The rules, in the order they are checked:
//   UNKNOWN      an input's licence is not in the table (or is empty):
//                refused (InvalidArgument) unless allow_unknown; an allowed
//                unknown input imposes no further rule (its terms are the
//                user's responsibility).
//   OUTPUT       the output licence is not in the table: refused
//                (InvalidArgument) unless allow_unknown. An empty output
//                licence means "proprietary" (what the model is registered as).
//   ND           a no-derivatives input cannot train a model at all (a model
//                is a derivative): refused.
//   NC           a non-commercial input cannot feed a model offered at a
//                price, and the output licence must itself be non-commercial
//                (else the model would grant the commercial use the input
//                withholds).
//   SA           a share-alike input requires the output licence to equal
//                its own; two share-alike inputs with different licences
//                conflict (no output can satisfy both).
//   PROPRIETARY  a proprietary input (all rights reserved, used for the fee
//                paid through cairn) requires a proprietary output (empty or
//                "proprietary"): it cannot be relicensed more openly.
// Permissive inputs impose nothing (attribution is the model's ledger entry,
// which names its datasets and parent). Pricing is free for every output
// licence; only NC inputs forbid it.
// Every refusal names the input's kind and name, its licence and the rule:
//   "dataset fashion-mnist is CC-BY-NC-4.0: rule NC (a non-commercial input
//    cannot feed a model offered at a price)"
// A leaf: depends on runtime/base only. Thread safety: pure functions.
#ifndef CAIRN_JOBSPEC_LICENCE_H_
#define CAIRN_JOBSPEC_LICENCE_H_

#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace cairn::jobspec {

struct LicensedInput {
  std::string kind;     // "dataset" or "model" (a fine-tune's parent)
  std::string name;     // as the user knows it
  std::string license;  // SPDX identifier as registered
};

struct OutputTerms {
  std::string license;  // the output model's licence ("" = not set: proprietary)
  bool priced = false;  // the output is offered at a price (a fine-tuning fee, or served for a price)
};

// OK, or FailedPrecondition (InvalidArgument for an unknown identifier)
// naming the input, its licence and the rule, e.g.
// "dataset fashion-mnist is CC-BY-NC-4.0: rule NC (a non-commercial input cannot feed a model offered at a price)".
Status CheckLicences(const std::vector<LicensedInput>& inputs, const OutputTerms& output, bool allow_unknown);

// One row of the table. `id` is the canonical spelling for a known
// identifier, the argument as given for an unknown one (every flag false).
struct LicenceInfo {
  std::string id;
  bool known = false;
  bool non_commercial = false;
  bool share_alike = false;
  bool no_derivatives = false;
  bool permissive = false;
};

// Case-insensitive. "proprietary" is known with every flag false.
LicenceInfo LookUpLicence(const std::string& spdx_id);

// Every known row, in the table's order (for docs, tests and `cairn` output).
const std::vector<LicenceInfo>& LicenceTable();

}  // namespace cairn::jobspec

#endif  // CAIRN_JOBSPEC_LICENCE_H_
