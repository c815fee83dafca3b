// The catalogue of cases. A case registers itself, in its own file, with
//
//   class NseRegisterReturnsExpiration : public Case {
//    public:
//     static CaseInfo Info() { return {.id = "REG-001", .title = "...", ...}; }
//     absl::Status Arrange(CaseContext& context) override;
//     absl::Status Act(CaseContext& context) override;
//     absl::Status Assert(CaseContext& context) override;
//   };
//   NSMCERT_REGISTER_CASE(NseRegisterReturnsExpiration);
//
// so adding a case is adding one .cc file under conformance/cases/<area>/ (the build links every
// file there into nsmcert). Registration happens during static initialisation, where an error has
// nowhere to go: an invalid CaseInfo or a duplicate id is kept in CaseRegistry::errors(), which
// `nsmcert list` and `nsmcert run` report (exit code 2) before doing anything else.
#ifndef NSMCERT_CONFORMANCE_CASES_REGISTRY_H_
#define NSMCERT_CONFORMANCE_CASES_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "conformance/cases/case.h"

namespace nsmcert::conformance {

// Makes a fresh case object for one execution.
using CaseFactory = std::function<std::unique_ptr<Case>()>;

struct CaseEntry {
  CaseInfo info;
  CaseFactory factory;
};

// Thread-safe. Entries are never removed, so pointers returned stay valid as long as the registry.
class CaseRegistry {
 public:
  // Adds a case. INVALID_ARGUMENT (naming the case) for an invalid CaseInfo (ValidateCaseInfo), an
  // id already registered, or an empty factory; nothing is added then.
  absl::Status Register(CaseInfo info, CaseFactory factory);
  // Every case, sorted by id.
  std::vector<const CaseEntry*> Entries() const;
  const CaseEntry* Find(std::string_view id) const;

  // Registration errors kept by RegisterOrRecord.
  std::vector<absl::Status> errors() const;
  // Register, keeping the error instead of returning it. For static registration.
  void RegisterOrRecord(CaseInfo info, CaseFactory factory);

  // The catalogue NSMCERT_REGISTER_CASE fills.
  static CaseRegistry& Global();

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, CaseEntry, std::less<>> entries_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Status> errors_ ABSL_GUARDED_BY(mu_);
};

namespace registry_internal {
// Registers into CaseRegistry::Global(); returns true so it can initialise a static.
bool RegisterGlobally(CaseInfo info, CaseFactory factory);
}  // namespace registry_internal

}  // namespace nsmcert::conformance

#define NSMCERT_REGISTRY_CONCAT_INNER_(a, b) a##b
#define NSMCERT_REGISTRY_CONCAT_(a, b) NSMCERT_REGISTRY_CONCAT_INNER_(a, b)

// Registers CaseClass (default-constructible, with a static CaseInfo Info()) in the global
// catalogue. Use at namespace scope in the case's .cc file.
#define NSMCERT_REGISTER_CASE(CaseClass)                                                \
  [[maybe_unused]] static const bool NSMCERT_REGISTRY_CONCAT_(nsmcert_case_registered_, \
                                                              __LINE__) =               \
      ::nsmcert::conformance::registry_internal::RegisterGlobally(                      \
          CaseClass::Info(), []() -> std::unique_ptr<::nsmcert::conformance::Case> {    \
            return std::make_unique<CaseClass>();                                       \
          })

#endif  // NSMCERT_CONFORMANCE_CASES_REGISTRY_H_
