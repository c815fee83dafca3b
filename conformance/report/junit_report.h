// junit.xml for CI systems: one <testsuite> per area, one <testcase> per case.
//
//   pass  -> <testcase/>
//   fail  -> <failure message="..." type="MUST|SHOULD|MAY">details</failure>
//   error -> <error message="..." type="harness">details</error>
//   skip  -> <skipped message="..."/>
//   n-a   -> <skipped message="not applicable: ..."/>
// Evidence paths go to <system-out>. Characters XML 1.0 cannot carry are replaced by U+FFFD.
#ifndef NSMCERT_CONFORMANCE_REPORT_JUNIT_REPORT_H_
#define NSMCERT_CONFORMANCE_REPORT_JUNIT_REPORT_H_

#include <string>
#include <string_view>

#include "conformance/report/results.h"

namespace nsmcert::conformance {

std::string RenderJunit(const RunResult& result);

// Escapes text for XML (and HTML) character data and attribute values, either quote kind.
// Characters XML 1.0 cannot carry (control characters, malformed UTF-8) become U+FFFD.
std::string XmlEscape(std::string_view text);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_REPORT_JUNIT_REPORT_H_
