// Puts a connection's plans into the kernel and takes them out again (reference/kernel does the
// syscalls). Behind an interface so that the dataplane element is tested without root.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "reference/forwarder/connection_plans.h"
#include "reference/kernel/netns.h"
#include "reference/kernel/plan.h"

namespace nsmcert::forwarder {

class DataplaneApplier {
 public:
  virtual ~DataplaneApplier() = default;

  // Makes the kernel hold `plans`: incoming side, outgoing side, then the cross-connect. If a step
  // fails, what was done is undone before the error returns, so the namespaces are as before.
  virtual absl::Status Apply(const ConnectionPlans& plans) = 0;

  // A refresh: moves the kernel from `current` to `desired` and sets `*held` to the plans that
  // describe everything that may now be present (for a later Remove). Unchanged plans change
  // nothing in the kernel. Changed addresses, routes, neighbours, policy rules or MTU of a KERNEL
  // side are updated in place (the interface stays); any other change re-creates the connection's
  // devices.
  virtual absl::Status Update(const ConnectionPlans& current, const ConnectionPlans& desired,
                              ConnectionPlans* held) = 0;

  // Takes out everything `plans` describe (cross-connect, then both sides). Idempotent: what is
  // already gone is skipped. Returns the first error but still tries every step.
  virtual absl::Status Remove(const ConnectionPlans& plans) = 0;
};

// The real thing: kernel::PlanApplier for whole plans, rtnetlink deltas for in-place updates.
//
// Before applying a connection's plans, devices with its forwarder-side names that an earlier run
// of the forwarder left behind (a restart keeps kernel state) are deleted; the names are derived
// from the connection id, so they belong to this connection (the dataplane element refuses names
// a live connection holds). Deleting a veth end also takes its peer out of the workload's
// namespace.
//
// Thread-safe: every call opens its own netlink sockets, one per namespace, and closes them before
// it returns (an open socket would pin a namespace that its pod has deleted).
class KernelDataplane final : public DataplaneApplier {
 public:
  // `resolver` (not owned) turns the plans' namespace references into handles; nullptr = a
  // ProcNetNsResolver.
  explicit KernelDataplane(kernel::NetNsResolver* resolver = nullptr);

  // For tests of the undo paths: called before every step of Apply (see kernel::PlanApplier).
  void set_fault_injector(kernel::PlanApplier::FaultInjector injector);

  absl::Status Apply(const ConnectionPlans& plans) override;
  absl::Status Update(const ConnectionPlans& current, const ConnectionPlans& desired,
                      ConnectionPlans* held) override;
  absl::Status Remove(const ConnectionPlans& plans) override;

 private:
  // Deletes devices named like this connection's forwarder-side devices (left by a crashed
  // earlier run), through `applier`'s socket in the forwarder's namespace.
  absl::Status RemoveLeftovers(kernel::PlanApplier& applier, const ConnectionPlans& plans);
  absl::Status UpdateInterface(const kernel::InterfacePlan& current,
                               const kernel::InterfacePlan& desired);

  kernel::ProcNetNsResolver default_resolver_;
  kernel::NetNsResolver* resolver_;
  kernel::PlanApplier::FaultInjector fault_injector_;
};

}  // namespace nsmcert::forwarder
