// Tokens (spec §5.2, §5.3, §14 D.42, D.43): a request whose per-RPC token has expired is refused
// with PERMISSION_DENIED and leaves nothing behind, while the same request with a fresh token is
// served; and a client that stops refreshing (SIGSTOP) loses its whole path once its token
// expires: every hop releases the connection and the kernel state goes.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "conformance/cases/domain.h"
#include "conformance/scenarios/scenario_support.h"
#include "networkservice.grpc.pb.h"
#include "reference/kernel/netns.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::conformance::scenarios {
namespace {

using ::testing::ElementsAre;

// A request as a client in `workload` would send it, for interface `interface`.
networkservice::NetworkServiceRequest CraftedRequest(Domain& domain, const std::string& workload,
                                                     const std::string& interface) {
  networkservice::NetworkServiceRequest request;
  auto* conn = request.mutable_connection();
  conn->set_id("crafted-0");
  conn->set_network_service("icmp-responder");
  auto* segment = conn->mutable_path()->add_path_segments();
  segment->set_name("crafted");
  segment->set_id("crafted-0");
  auto* mechanism = request.add_mechanism_preferences();
  mechanism->set_cls("LOCAL");
  mechanism->set_type("KERNEL");
  auto ns = kernel::NetNs::FromPath(domain.NetnsPath(workload));
  if (ns.ok()) (*mechanism->mutable_parameters())["inodeURL"] = ns->InodeUrl();
  (*mechanism->mutable_parameters())["name"] = interface;
  return request;
}

// Per-RPC token metadata (spec §2.3) with a token that expires at `expires`.
void AddToken(grpc::ClientContext& call, absl::Time expires) {
  auto key = sdk::tools::EcKey::Generate();
  ASSERT_TRUE(key.ok()) << key.status();
  sdk::tools::JwtClaims claims;
  claims.subject = "spiffe://nsmcert.local/crafted";
  claims.audience = {"spiffe://nsmcert.local/nsmgr-node-a"};
  claims.expires_at = expires;
  auto token = sdk::tools::SignJwtEs256(claims, *key);
  ASSERT_TRUE(token.ok()) << token.status();
  call.AddMetadata("nsm-client-token", *token);
  call.AddMetadata("nsm-client-token-expires", sdk::tools::FormatRfc3339Nano(expires));
}

class TokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    context_ = MakeContext(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_NE(context_, nullptr);
    auto domain = Domain::Start(context_->context());
    ASSERT_TRUE(domain.ok()) << domain.status();
    domain_ = *std::move(domain);
    EndpointOptions nse;
    nse.workload = "nse-b";
    ASSERT_TRUE(domain_->StartEndpoint(nse).ok());
    ASSERT_TRUE(domain_->WaitForEndpoint("nse-b", absl::Seconds(10)).ok());
  }

  std::unique_ptr<StandaloneCaseContext> context_;
  std::unique_ptr<Domain> domain_;
};

TEST_F(TokenTest, AnExpiredTokenIsRefusedAndAFreshOneServed) {
  auto channel =
      grpc::CreateChannel(domain_->node("node-a")->nsmgr_url, grpc::InsecureChannelCredentials());
  auto stub = networkservice::NetworkService::NewStub(channel);

  {
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    AddToken(call, absl::Now() - absl::Minutes(1));
    connection::Connection reply;
    grpc::Status status = stub->Request(&call, CraftedRequest(*domain_, "nsc-a", "nsm-9"), &reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  }
  // Refused at the first hop: no hop holds anything, no interface was made.
  for (const char* node : {"node-a", "node-b"}) {
    auto snapshot = domain_->MonitorSnapshot(node);
    ASSERT_TRUE(snapshot.ok()) << snapshot.status();
    EXPECT_TRUE(snapshot->empty()) << node;
  }
  auto nse = domain_->MonitorSnapshotAt(domain_->endpoint("nse-b")->role->url());
  ASSERT_TRUE(nse.ok()) << nse.status();
  EXPECT_TRUE(nse->empty());
  auto links = domain_->Links("nsc-a");
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_THAT(*links, ElementsAre("lo"));

  // The control: the same request with a token that is still valid is served, and closed.
  connection::Connection served;
  {
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
    AddToken(call, absl::Now() + absl::Minutes(1));
    grpc::Status status = stub->Request(&call, CraftedRequest(*domain_, "nsc-a", "nsm-9"), &served);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_EQ(served.path().path_segments_size(), 6);
  auto addresses = domain_->InterfaceAddresses("nsc-a", "nsm-9");
  EXPECT_TRUE(addresses.ok()) << addresses.status();
  {
    grpc::ClientContext call;
    call.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
    AddToken(call, absl::Now() + absl::Minutes(1));
    google::protobuf::Empty empty;
    grpc::Status status = stub->Close(&call, served, &empty);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  EXPECT_TRUE(domain_->WaitForNoConnections("node-a", absl::Seconds(10)).ok());
}

TEST_F(TokenTest, AClientThatStopsRefreshingLosesItsPathWhenItsTokenExpires) {
  constexpr absl::Duration kLifetime = absl::Seconds(5);
  ClientOptions nsc;
  nsc.workload = "nsc-a";
  nsc.request_timeout = absl::Seconds(1);  // the hops' timers fire at expiry - request deadline
  nsc.env = {{"NSM_MAX_TOKEN_LIFETIME", "5s"}};
  auto client = domain_->StartClient(nsc);
  ASSERT_TRUE(client.ok()) << client.status();
  auto conns = domain_->WaitForClientConnections(**client, absl::Seconds(20));
  ASSERT_TRUE(conns.ok()) << conns.status();
  // Refreshing keeps it alive past one token lifetime.
  absl::SleepFor(kLifetime + absl::Seconds(1));
  auto still = domain_->WaitForClientConnections(**client, absl::Seconds(1));
  ASSERT_TRUE(still.ok()) << still.status();
  auto ping = PingUntilReply(*domain_, "nsc-a", EndpointAddress(still->front()), absl::Seconds(3));
  ASSERT_TRUE(ping.ok()) << ping.status();

  const absl::Time stopped = absl::Now();
  ASSERT_TRUE((*client)->process().Pause().ok());
  // Every hop lets go within the token's lifetime (plus the polling and Close time).
  const absl::Duration bound = kLifetime + absl::Seconds(3);
  std::vector<std::string> urls = {
      domain_->node("node-a")->nsmgr_url, domain_->forwarder("node-a")->url(),
      domain_->node("node-b")->nsmgr_url, domain_->forwarder("node-b")->url(),
      domain_->endpoint("nse-b")->role->url()};
  for (const std::string& url : urls) {
    absl::Status released = domain_->WaitForNoConnectionsAt(url, bound - (absl::Now() - stopped));
    EXPECT_TRUE(released.ok()) << released;
  }
  std::cout << "path released " << absl::FormatDuration(absl::Now() - stopped)
            << " after the client stopped" << std::endl;
  auto links = LinksByNamespace(*domain_);
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_THAT((*links)["nsc-a"], ElementsAre("lo"));
  EXPECT_TRUE(ConnectionLinks((*links)["node-a"]).empty());
  EXPECT_TRUE(ConnectionLinks((*links)["node-b"]).empty());
  EXPECT_EQ((*links)["nse-b"], std::vector<std::string>{"lo"});
  ASSERT_TRUE((*client)->process().Resume().ok());
}

}  // namespace
}  // namespace nsmcert::conformance::scenarios
