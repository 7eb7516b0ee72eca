#include "jobspec/licence.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "runtime/base/test_data.h"

namespace cairn::jobspec {
namespace {

LicensedInput Dataset(const std::string& name, const std::string& license) { return {"dataset", name, license}; }
LicensedInput Parent(const std::string& name, const std::string& license) { return {"model", name, license}; }

// A refusal with `code` whose message contains every one of `want`.
void ExpectRefused(const Status& s, StatusCode code, const std::vector<std::string>& want) {
  ASSERT_FALSE(s.ok()) << "want a refusal naming " << want.front();
  EXPECT_EQ(s.code(), code) << s;
  for (const auto& w : want) EXPECT_NE(s.message().find(w), std::string::npos) << "want '" << w << "' in '" << s.message() << "'";
}

TEST(Licence, PermissiveInputsPass) {
  EXPECT_TRUE(CheckLicences({Dataset("fashion-mnist", "MIT"), Dataset("shakespeare", "CC0-1.0"),
                             Dataset("wiki", "CC-BY-4.0"), Parent("base", "Apache-2.0")},
                            {"MIT", true}, false).ok());
  EXPECT_TRUE(CheckLicences({Dataset("d", "BSD-3-Clause")}, {"", false}, false).ok()) << "empty output: proprietary";
  EXPECT_TRUE(CheckLicences({Dataset("d", "ISC")}, {"GPL-3.0-only", true}, false).ok()) << "permissive into copyleft";
  EXPECT_TRUE(CheckLicences({}, {"Unlicense", false}, false).ok());
}

TEST(Licence, NonCommercialInputCannotFeedAPricedModel) {
  ExpectRefused(CheckLicences({Dataset("ok", "MIT"), Dataset("fashion-mnist", "CC-BY-NC-4.0")}, {"CC-BY-NC-4.0", true}, false),
                StatusCode::kFailedPrecondition,
                {"dataset fashion-mnist is CC-BY-NC-4.0: rule NC (a non-commercial input cannot feed a model offered at a price)"});
  EXPECT_TRUE(CheckLicences({Dataset("fashion-mnist", "CC-BY-NC-4.0")}, {"CC-BY-NC-4.0", false}, false).ok());
  EXPECT_TRUE(CheckLicences({Dataset("fashion-mnist", "CC-BY-NC-4.0")}, {"CC-BY-NC-ND-4.0", false}, false).ok())
      << "any non-commercial output licence will do";
}

TEST(Licence, NonCommercialInputNeedsANonCommercialOutputLicence) {
  ExpectRefused(CheckLicences({Dataset("faces", "CC-BY-NC-4.0")}, {"MIT", false}, false), StatusCode::kFailedPrecondition,
                {"dataset faces is CC-BY-NC-4.0", "rule NC", "non-commercial output licence, got MIT"});
  ExpectRefused(CheckLicences({Dataset("faces", "CC-BY-NC-4.0")}, {"", false}, false), StatusCode::kFailedPrecondition,
                {"rule NC", "got none (proprietary)"});
}

TEST(Licence, ShareAlikeInputNeedsTheSameOutputLicence) {
  ExpectRefused(CheckLicences({Dataset("wiki", "CC-BY-SA-4.0")}, {"MIT", false}, false), StatusCode::kFailedPrecondition,
                {"dataset wiki is CC-BY-SA-4.0: rule SA", "output licensed CC-BY-SA-4.0 too, got MIT"});
  ExpectRefused(CheckLicences({Dataset("osm", "ODbL-1.0")}, {"", false}, false), StatusCode::kFailedPrecondition,
                {"dataset osm is ODbL-1.0: rule SA", "got none (proprietary)"});
  EXPECT_TRUE(CheckLicences({Dataset("wiki", "CC-BY-SA-4.0"), Dataset("m", "MIT")}, {"CC-BY-SA-4.0", true}, false).ok())
      << "share-alike allows a price";
  EXPECT_TRUE(CheckLicences({Dataset("a", "CC-BY-SA-4.0"), Dataset("b", "cc-by-sa-4.0")}, {"CC-BY-SA-4.0", false}, false).ok())
      << "the same share-alike licence twice is no conflict";
  // Non-commercial and share-alike: the output must be the same NC-SA licence, and unpriced.
  EXPECT_TRUE(CheckLicences({Dataset("d", "CC-BY-NC-SA-4.0")}, {"CC-BY-NC-SA-4.0", false}, false).ok());
  ExpectRefused(CheckLicences({Dataset("d", "CC-BY-NC-SA-4.0")}, {"CC-BY-NC-4.0", false}, false),
                StatusCode::kFailedPrecondition, {"dataset d is CC-BY-NC-SA-4.0: rule SA"});
}

TEST(Licence, TwoDifferentShareAlikeInputsConflict) {
  // The conflict is named even when the output matches the first of them.
  ExpectRefused(CheckLicences({Dataset("wiki", "CC-BY-SA-4.0"), Dataset("code", "GPL-3.0-only")}, {"CC-BY-SA-4.0", false}, false),
                StatusCode::kFailedPrecondition,
                {"dataset code is GPL-3.0-only: rule SA", "conflict", "dataset wiki is CC-BY-SA-4.0"});
  ExpectRefused(CheckLicences({Dataset("wiki", "CC-BY-SA-4.0"), Dataset("code", "GPL-3.0-only")}, {"MIT", false}, false),
                StatusCode::kFailedPrecondition, {"rule SA", "conflict"});
}

TEST(Licence, NoDerivativesInputCannotTrainAModel) {
  for (const char* nd : {"CC-BY-ND-4.0", "CC-BY-NC-ND-4.0"}) {
    ExpectRefused(CheckLicences({Dataset("art", nd)}, {nd, false}, false), StatusCode::kFailedPrecondition,
                  {"dataset art is " + std::string(nd) + ": rule ND", "derivative"});
  }
}

TEST(Licence, UnknownInputIsRefused) {
  ExpectRefused(CheckLicences({Dataset("scraped", "LicenseRef-acme")}, {"MIT", false}, false), StatusCode::kInvalidArgument,
                {"dataset scraped is LicenseRef-acme: rule UNKNOWN", "allow_unknown_licenses: true"});
  ExpectRefused(CheckLicences({Dataset("x", "WTFPL-9")}, {"MIT", false}, false), StatusCode::kInvalidArgument,
                {"dataset x is WTFPL-9: rule UNKNOWN", "not in the licence table"});
  ExpectRefused(CheckLicences({Dataset("x", "MIT OR Apache-2.0")}, {"MIT", false}, false), StatusCode::kInvalidArgument,
                {"dataset x is MIT OR Apache-2.0: rule UNKNOWN", "SPDX expression"});
  ExpectRefused(CheckLicences({Dataset("x", "")}, {"MIT", false}, false), StatusCode::kInvalidArgument,
                {"dataset x has no licence: rule UNKNOWN"});
  // Deprecated ids are not in the table.
  ExpectRefused(CheckLicences({Dataset("x", "GPL-3.0")}, {"GPL-3.0", false}, false), StatusCode::kInvalidArgument,
                {"rule UNKNOWN"});
}

TEST(Licence, UnknownAllowedWhenTheSpecOptsIn) {
  EXPECT_TRUE(CheckLicences({Dataset("scraped", "LicenseRef-acme"), Dataset("m", "MIT")}, {"MIT", true}, true).ok());
  EXPECT_TRUE(CheckLicences({Dataset("m", "MIT")}, {"LicenseRef-mine", true}, true).ok());
  EXPECT_TRUE(CheckLicences({Dataset("x", "MIT OR Apache-2.0")}, {"MIT", false}, true).ok());
  // The opt-in waives UNKNOWN and OUTPUT only: the known inputs' rules still hold.
  ExpectRefused(CheckLicences({Dataset("scraped", "LicenseRef-acme"), Dataset("art", "CC-BY-ND-4.0")}, {"MIT", false}, true),
                StatusCode::kFailedPrecondition, {"dataset art is CC-BY-ND-4.0: rule ND"});
  ExpectRefused(CheckLicences({Dataset("wiki", "CC-BY-SA-4.0")}, {"LicenseRef-mine", false}, true),
                StatusCode::kFailedPrecondition, {"rule SA", "got LicenseRef-mine"});
}

TEST(Licence, OutputLicenceMustBeKnown) {
  ExpectRefused(CheckLicences({Dataset("d", "MIT")}, {"LicenseRef-mine", false}, false), StatusCode::kInvalidArgument,
                {"output licence LicenseRef-mine: rule OUTPUT", "allow_unknown_licenses: true"});
  ExpectRefused(CheckLicences({}, {"MIT AND BSD-3-Clause", false}, false), StatusCode::kInvalidArgument,
                {"rule OUTPUT", "SPDX expression"});
  EXPECT_TRUE(CheckLicences({}, {"proprietary", true}, false).ok());
}

TEST(Licence, IdentifiersCompareCaseInsensitively) {
  EXPECT_TRUE(CheckLicences({Dataset("d", "mit"), Dataset("w", "cc-by-sa-4.0")}, {"CC-BY-SA-4.0", false}, false).ok());
  EXPECT_TRUE(CheckLicences({Dataset("w", "CC-BY-SA-4.0")}, {"cc-by-sa-4.0", false}, false).ok());
  ExpectRefused(CheckLicences({Dataset("f", "cc-by-nc-4.0")}, {"cc-by-nc-4.0", true}, false), StatusCode::kFailedPrecondition,
                {"dataset f is cc-by-nc-4.0: rule NC"});
  LicenceInfo info = LookUpLicence("apache-2.0");
  EXPECT_TRUE(info.known);
  EXPECT_TRUE(info.permissive);
  EXPECT_EQ(info.id, "Apache-2.0") << "the canonical spelling";
  EXPECT_TRUE(LookUpLicence(" MIT ").known);
  EXPECT_TRUE(LookUpLicence("PROPRIETARY").known);
}

TEST(Licence, AFineTunesParentModelCountsAsAnInput) {
  ExpectRefused(CheckLicences({Dataset("shakespeare", "CC0-1.0"), Parent("shakespeare-gpt", "CC-BY-SA-4.0")}, {"MIT", false}, false),
                StatusCode::kFailedPrecondition, {"model shakespeare-gpt is CC-BY-SA-4.0: rule SA"});
  ExpectRefused(CheckLicences({Dataset("shakespeare", "CC0-1.0"), Parent("base", "CC-BY-NC-4.0")}, {"CC-BY-NC-4.0", true}, false),
                StatusCode::kFailedPrecondition, {"model base is CC-BY-NC-4.0: rule NC"});
  ExpectRefused(CheckLicences({Parent("base", "LicenseRef-x")}, {"MIT", false}, false), StatusCode::kInvalidArgument,
                {"model base is LicenseRef-x: rule UNKNOWN"});
}

TEST(Licence, ProprietaryInputKeepsTheOutputProprietary) {
  ExpectRefused(CheckLicences({Parent("closed", "proprietary")}, {"MIT", true}, false), StatusCode::kFailedPrecondition,
                {"model closed is proprietary: rule PROPRIETARY", "got MIT"});
  EXPECT_TRUE(CheckLicences({Parent("closed", "proprietary")}, {"", true}, false).ok());
  EXPECT_TRUE(CheckLicences({Parent("closed", "proprietary")}, {"proprietary", true}, false).ok());
  ExpectRefused(CheckLicences({Parent("closed", "proprietary"), Dataset("wiki", "CC-BY-SA-4.0")}, {"", false}, false),
                StatusCode::kFailedPrecondition, {"dataset wiki is CC-BY-SA-4.0: rule SA"});
}

TEST(Licence, TheTableIsCoherent) {
  const auto& table = LicenceTable();
  EXPECT_GE(table.size(), 30u);
  for (const auto& row : table) {
    EXPECT_TRUE(row.known) << row.id;
    EXPECT_EQ(LookUpLicence(row.id).id, row.id) << "each id once";
    if (row.permissive) {
      EXPECT_FALSE(row.non_commercial || row.share_alike || row.no_derivatives) << row.id;
    }
  }
  EXPECT_FALSE(LookUpLicence("LicenseRef-anything").known);
  EXPECT_EQ(LookUpLicence("LicenseRef-anything").id, "LicenseRef-anything");
  auto nc_sa = LookUpLicence("CC-BY-NC-SA-4.0");
  EXPECT_TRUE(nc_sa.non_commercial && nc_sa.share_alike && !nc_sa.no_derivatives && !nc_sa.permissive);
  auto nc_nd = LookUpLicence("CC-BY-NC-ND-4.0");
  EXPECT_TRUE(nc_nd.non_commercial && nc_nd.no_derivatives && !nc_nd.share_alike);
  EXPECT_TRUE(LookUpLicence("ODbL-1.0").share_alike);
  EXPECT_TRUE(LookUpLicence("BSD-4-Clause").permissive) << "the demo's fortunes dataset";
}

// docs/licences.md lists every row of the table, so the two cannot drift apart.
TEST(Licence, TheDocsNameEveryRow) {
  std::ifstream in(SourceDir() + "/docs/licences.md");
  ASSERT_TRUE(in.good()) << "docs/licences.md";
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& row : LicenceTable()) {
    EXPECT_NE(text.str().find("`" + row.id + "`"), std::string::npos) << row.id << " is not in docs/licences.md";
  }
}

}  // namespace
}  // namespace cairn::jobspec
