// The Domain over the reference daemons (privileged: namespaces, veth, VXLAN): the control plane
// comes up healthy with both forwarders registered, a one-shot client gets a remote connection,
// and teardown leaves no namespace, process or work directory behind.
#include "conformance/cases/domain.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "conformance/harness/leak_audit.h"
#include "reference/kernel/netns.h"

namespace nsmcert::conformance {
namespace {

std::unique_ptr<StandaloneCaseContext> MakeContext() {
  StandaloneCaseContext::Options options;
  options.bin_dir = NSMCERT_BUILD_DIR;
  auto context = StandaloneCaseContext::Create(options);
  EXPECT_TRUE(context.ok()) << context.status();
  return context.ok() ? *std::move(context) : nullptr;
}

std::vector<std::string> NamespacesOf(const std::string& prefix) {
  std::vector<std::string> found;
  for (const std::string& name : kernel::ListNamedNetNs()) {
    if (name.starts_with(prefix)) found.push_back(name);
  }
  return found;
}

TEST(DomainTest, ControlPlaneComesUpHealthyAndTearsDownCompletely) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  // Processes and sockets of this test only: other tests may build namespaces meanwhile, and this
  // domain's own (its run's prefix, unknown until it starts) are checked by name below.
  harness::AuditScope scope;
  scope.namespace_prefix = "nsmcert-domain-test-audits-no-namespace-";
  auto audit = harness::LeakAudit::Begin(scope);
  ASSERT_TRUE(audit.ok()) << audit.status();
  auto context = MakeContext();
  ASSERT_NE(context, nullptr);
  std::string prefix;
  {
    auto domain = Domain::Start(context->context());
    ASSERT_TRUE(domain.ok()) << domain.status();
    prefix = (*domain)->topology().run_id().NamespacePrefix();
    EXPECT_EQ((*domain)->registry_url(), "tcp://10.100.0.1:5002");
    ASSERT_EQ((*domain)->nodes().size(), 2u);
    for (DomainNode* node : (*domain)->nodes()) {
      EXPECT_TRUE(node->nsmgr->running()) << node->node->name;
      EXPECT_TRUE(node->forwarder->running()) << node->node->name;
      EXPECT_TRUE(node->nsmgr_url.starts_with("unix:///tmp/")) << node->nsmgr_url;
      EXPECT_EQ(node->nsmgr_public_url, "tcp://" + node->address + ":5001");
    }
    EXPECT_NE((*domain)->nsmgr("node-b"), nullptr);
    EXPECT_EQ((*domain)->nsmgr("node-c"), nullptr);
    EXPECT_FALSE((*domain)->NetnsPath("nse-b").empty());
    // Both forwarders register themselves through their nsmgr into the one registry.
    ASSERT_TRUE((*domain)->WaitForEndpoint("forwarder-node-a", absl::Seconds(10)).ok());
    ASSERT_TRUE((*domain)->WaitForEndpoint("forwarder-node-b", absl::Seconds(10)).ok());
    auto snapshot = (*domain)->MonitorSnapshot("node-a");
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_TRUE(snapshot->empty());
    EXPECT_EQ(NamespacesOf(prefix).size(), 5u);
  }
  EXPECT_TRUE(NamespacesOf(prefix).empty());
  auto report = audit->Check();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->processes.empty() && report->sockets.empty()) << report->ToString();
}

TEST(DomainTest, OneShotClientGetsARemoteConnection) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto context = MakeContext();
  ASSERT_NE(context, nullptr);
  auto domain = Domain::Start(context->context());
  ASSERT_TRUE(domain.ok()) << domain.status();
  EndpointOptions nse;
  nse.workload = "nse-b";
  auto endpoint = (*domain)->StartEndpoint(nse);
  ASSERT_TRUE(endpoint.ok()) << endpoint.status();
  ASSERT_TRUE((*domain)->WaitForEndpoint("nse-b", absl::Seconds(10)).ok());

  ClientOptions nsc;
  nsc.workload = "nsc-a";
  nsc.close_after_request = true;
  auto connections = (*domain)->RequestOnce(nsc);
  ASSERT_TRUE(connections.ok()) << connections.status();
  ASSERT_EQ(connections->size(), 1u);
  const connection::Connection& conn = connections->front();
  std::vector<std::string> names;
  for (const auto& segment : conn.path().path_segments()) names.push_back(segment.name());
  EXPECT_EQ(names, (std::vector<std::string>{"nsc-a", "nsmgr-node-a", "forwarder-node-a",
                                             "nsmgr-node-b", "forwarder-node-b", "nse-b"}));
  EXPECT_EQ(conn.network_service_endpoint_name(), "nse-b");
  ASSERT_EQ(conn.context().ip_context().src_ip_addrs_size(), 1);
  EXPECT_EQ(conn.context().ip_context().src_ip_addrs(0), "172.16.1.101/32");
  // Closed before the client exited: nothing is left on either nsmgr.
  EXPECT_TRUE((*domain)->WaitForNoConnections("node-a", absl::Seconds(10)).ok());
  EXPECT_TRUE((*domain)->WaitForNoConnections("node-b", absl::Seconds(10)).ok());
}

}  // namespace
}  // namespace nsmcert::conformance
