#include "conformance/cases/registry.h"

#include "conformance/cases/text.h"

namespace nsmcert::conformance {

absl::Status CaseRegistry::Register(CaseInfo info, CaseFactory factory) {
  if (absl::Status status = ValidateCaseInfo(info); !status.ok()) return status;
  if (!factory) {
    return absl::InvalidArgumentError(Cat("case ", info.id, ": no factory to make it"));
  }
  absl::MutexLock lock(&mu_);
  if (entries_.count(info.id) != 0) {
    return absl::InvalidArgumentError(Cat("case ", info.id, ": id registered twice (\"",
                                          entries_.at(info.id).info.title, "\" and \"", info.title,
                                          "\")"));
  }
  std::string id = info.id;
  entries_.emplace(std::move(id), CaseEntry{std::move(info), std::move(factory)});
  return absl::OkStatus();
}

std::vector<const CaseEntry*> CaseRegistry::Entries() const {
  absl::MutexLock lock(&mu_);
  std::vector<const CaseEntry*> out;
  out.reserve(entries_.size());
  for (const auto& [id, entry] : entries_) out.push_back(&entry);
  return out;
}

const CaseEntry* CaseRegistry::Find(std::string_view id) const {
  absl::MutexLock lock(&mu_);
  const auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<absl::Status> CaseRegistry::errors() const {
  absl::MutexLock lock(&mu_);
  return errors_;
}

void CaseRegistry::RegisterOrRecord(CaseInfo info, CaseFactory factory) {
  absl::Status status = Register(std::move(info), std::move(factory));
  if (status.ok()) return;
  absl::MutexLock lock(&mu_);
  errors_.push_back(std::move(status));
}

CaseRegistry& CaseRegistry::Global() {
  // Constructed on first use, so registrations from other translation units' static initialisers
  // never see it unconstructed; never destroyed, so late readers never see it destroyed.
  static CaseRegistry* const registry = new CaseRegistry();
  return *registry;
}

namespace registry_internal {

bool RegisterGlobally(CaseInfo info, CaseFactory factory) {
  CaseRegistry::Global().RegisterOrRecord(std::move(info), std::move(factory));
  return true;
}

}  // namespace registry_internal
}  // namespace nsmcert::conformance
