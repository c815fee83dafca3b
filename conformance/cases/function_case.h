// A case made of three functions, for tests of the framework and for scripted scenarios (the
// Python bindings). Catalogue cases are classes (registry.h).
#ifndef NSMCERT_CONFORMANCE_CASES_FUNCTION_CASE_H_
#define NSMCERT_CONFORMANCE_CASES_FUNCTION_CASE_H_

#include <functional>
#include <memory>
#include <utility>

#include "conformance/cases/case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance {

using PhaseFunction = std::function<absl::Status(CaseContext&)>;

class FunctionCase : public Case {
 public:
  // An empty function is a phase with nothing to do.
  FunctionCase(PhaseFunction arrange, PhaseFunction act, PhaseFunction assert_phase)
      : arrange_(std::move(arrange)), act_(std::move(act)), assert_(std::move(assert_phase)) {}

  absl::Status Arrange(CaseContext& context) override { return Run(arrange_, context); }
  absl::Status Act(CaseContext& context) override { return Run(act_, context); }
  absl::Status Assert(CaseContext& context) override { return Run(assert_, context); }

 private:
  static absl::Status Run(const PhaseFunction& phase, CaseContext& context) {
    return phase ? phase(context) : absl::OkStatus();
  }

  PhaseFunction arrange_;
  PhaseFunction act_;
  PhaseFunction assert_;
};

// A factory for a FunctionCase (the functions are copied into every case made).
inline CaseFactory FunctionCaseFactory(PhaseFunction arrange, PhaseFunction act,
                                       PhaseFunction assert_phase) {
  return [arrange = std::move(arrange), act = std::move(act),
          assert_phase = std::move(assert_phase)]() -> std::unique_ptr<Case> {
    return std::make_unique<FunctionCase>(arrange, act, assert_phase);
  };
}

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_FUNCTION_CASE_H_
