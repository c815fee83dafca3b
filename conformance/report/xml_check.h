// Test-only: a strict parser for the XML subset junit.xml uses (declaration, elements, attributes,
// character data, the five named entities and numeric references), to check that the file is
// well-formed and to inspect it. Rejects what a conforming parser would: unbalanced or misnested
// tags, unquoted or repeated attributes, unknown entities, bare '<' or '&', control characters,
// malformed UTF-8.
#ifndef NSMCERT_CONFORMANCE_REPORT_XML_CHECK_H_
#define NSMCERT_CONFORMANCE_REPORT_XML_CHECK_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nsmcert::conformance::testing {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attributes;
  std::vector<XmlElement> children;
  std::string text;  // character data directly inside, entities decoded

  // Every descendant (depth-first) called `name`.
  std::vector<const XmlElement*> FindAll(std::string_view name) const;
};

absl::StatusOr<XmlElement> ParseXml(std::string_view text);

}  // namespace nsmcert::conformance::testing

#endif  // NSMCERT_CONFORMANCE_REPORT_XML_CHECK_H_
