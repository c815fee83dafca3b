// The human reports: report.md and report.html, rendered from a RunResult. Both say, in order:
// the verdict and why (exit code), what was tested (manifest, roles, claimed features, run
// settings), a summary by area (with case and wall times) and by level, then the cases with the
// failing MUST ones first, each with its message and links to its evidence (paths relative to the
// output directory, so the links work inside the bundle too).
#ifndef NSMCERT_CONFORMANCE_REPORT_HUMAN_REPORT_H_
#define NSMCERT_CONFORMANCE_REPORT_HUMAN_REPORT_H_

#include <string>
#include <vector>

#include "conformance/report/results.h"

namespace nsmcert::conformance {

std::string RenderMarkdown(const RunResult& result);
std::string RenderHtml(const RunResult& result);

// The order cases appear in the reports: failed MUST, harness errors, skipped MUST, failed SHOULD,
// failed MAY, other skips, passes, not applicable; by id within each group.
std::vector<const CaseResult*> ReportOrder(const RunResult& result);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_REPORT_HUMAN_REPORT_H_
