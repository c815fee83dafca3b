// The forwarder's chain in process, with the real kernel data path inside throw-away namespaces:
// a node (the forwarder's namespace) with an underlay to a peer node, a client and an endpoint
// namespace. The nsmgr's registry and the next hop are fakes in the test. Needs root (skips
// otherwise).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "reference/forwarder/connection_plans.h"
#include "reference/forwarder/forwarder_server.h"
#include "reference/forwarder/kernel_dataplane.h"
#include "reference/forwarder/testing.h"
#include "reference/kernel/testing.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/spiffe_id.h"

namespace nsmcert::forwarder {
namespace {

using kernel::testing::TakeSnapshot;
using kernel::testing::TestNetNs;
using ::testing::HasSubstr;

std::string P(const connection::Mechanism& m, const std::string& key) {
  auto it = m.parameters().find(key);
  return it == m.parameters().end() ? "" : it->second;
}

bool HasAddress(kernel::Netlink& nl, const std::string& link, const std::string& cidr) {
  auto addrs = nl.ListAddresses(link);
  if (!addrs.ok()) return false;
  for (const auto& a : *addrs) {
    if (a.cidr == cidr) return true;
  }
  return false;
}

class ForwarderKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    node_ = Ns("fwk-node");
    peer_ = Ns("fwk-peer");
    nsc_ = Ns("fwk-nsc");
    nse_ = Ns("fwk-nse");
    ASSERT_TRUE(node_->nl().CreateVeth("under", "under", &peer_->ns()).ok());
    ASSERT_TRUE(node_->nl().AddAddress("under", "192.0.2.1/24").ok());
    ASSERT_TRUE(peer_->nl().AddAddress("under", "192.0.2.2/24").ok());
    // The underlay is IPv4 only: an IPv6 link-local address would settle (DAD) at a moment of
    // its own and make namespace snapshots differ for reasons that have nothing to do with the
    // forwarder.
    for (TestNetNs* node : {node_.get(), peer_.get()}) {
      ASSERT_TRUE(kernel::WriteNetSysctl(node->ns(), "net/ipv6/conf/under/disable_ipv6", "1").ok());
      ASSERT_TRUE(node->nl().SetUp("under", true).ok());
    }

    auto id = sdk::tools::SpiffeId::Parse("spiffe://nsmcert.local/test");
    ASSERT_TRUE(id.ok());
    signer_ = std::make_shared<sdk::tools::Hs256TokenSigner>(*id, "secret");
    ns_registry_ = std::make_shared<testing::FakeNsRegistry>();
    nse_registry_ = std::make_shared<testing::FakeNseRegistry>();
    registry::NetworkService svc;
    svc.set_name("svc");
    svc.set_payload("ETHERNET");
    ns_registry_->Add(svc);
    nse_registry_->Add(testing::Nse("nse-1", "svc", "unix:///nowhere/nse-1.sock"));
    nse_registry_->Add(testing::Nse("nse-far", "far-svc", "tcp://192.0.2.2:5001"));
    registry::NetworkService far = svc;
    far.set_name("far-svc");
    ns_registry_->Add(far);

    endpoint_ = std::make_shared<testing::Sink>();
    endpoint_->on_request = [this](networkservice::NetworkServiceRequest& r) { return Answer(r); };
    forwarder_ = MakeForwarder();
    ASSERT_NE(forwarder_, nullptr);
  }

  std::unique_ptr<TestNetNs> Ns(const std::string& prefix) {
    auto ns = TestNetNs::Create(prefix);
    EXPECT_TRUE(ns.ok()) << ns.status();
    return ns.ok() ? std::make_unique<TestNetNs>(*std::move(ns)) : nullptr;
  }

  std::unique_ptr<ForwarderServer> MakeForwarder(sdk::Clock* clock = nullptr) {
    auto tunnel = DiscoverTunnel(node_->nl(), "192.0.2.1", 4789);
    EXPECT_TRUE(tunnel.ok()) << tunnel.status();
    ForwarderOptions options;
    options.name = "fwd-a";
    options.signer = signer_;
    options.policies = sdk::TokenPolicies::None();
    options.tunnel = *tunnel;
    options.forwarder_netns = node_->name();
    options.ns_registry = ns_registry_;
    options.nse_registry = nse_registry_;
    options.connect = endpoint_;
    options.downstream_monitor = testing::SilentOpener();
    if (clock != nullptr) options.clock = clock;
    auto server = ForwarderServer::Create(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }

  // The next hop: a local endpoint (KERNEL, its namespace and interface, p2p addresses) or, for a
  // tcp:// next hop, a remote forwarder answering VXLAN.
  absl::Status Answer(networkservice::NetworkServiceRequest& r) {
    if (r.mechanism_preferences_size() == 0 && !r.connection().has_mechanism()) {
      return absl::InvalidArgumentError("no mechanism offered");
    }
    connection::Mechanism chosen =
        r.connection().has_mechanism() ? r.connection().mechanism() : r.mechanism_preferences(0);
    auto& params = *chosen.mutable_parameters();
    if (chosen.type() == "KERNEL") {
      params["inodeURL"] = nse_->ns().InodeUrl();
      params["name"] = endpoint_interface;
    } else if (chosen.type() == "VXLAN") {
      params["dst_ip"] = "192.0.2.2";
      params["dst_port"] = "4789";
      if (!params.contains("vni")) params["vni"] = remote_vni;
    }
    *r.mutable_connection()->mutable_mechanism() = chosen;
    auto* ip = r.mutable_connection()->mutable_context()->mutable_ip_context();
    ip->Clear();
    ip->add_src_ip_addrs(client_address);
    ip->add_dst_ip_addrs("172.16.1.100/32");
    ip->add_src_routes()->set_prefix("172.16.1.100/32");
    ip->add_dst_routes()->set_prefix(client_address);
    return absl::OkStatus();
  }

  // A request as an nsmgr forwards it: [nsc, nsmgr] with index 1 and fresh tokens.
  networkservice::NetworkServiceRequest Request(const std::string& service,
                                                connection::Mechanism offer) {
    networkservice::NetworkServiceRequest request;
    auto* conn = request.mutable_connection();
    conn->set_id("nsmgr-segment-1");
    conn->set_network_service(service);
    conn->mutable_path()->set_index(1);
    for (const char* name : {"nsc", "nsmgr-a"}) {
      auto token = signer_->Sign("");
      EXPECT_TRUE(token.ok());
      auto* seg = conn->mutable_path()->add_path_segments();
      seg->set_name(name);
      seg->set_id(std::string(name) == "nsc" ? "nsc-0" : "nsmgr-segment-1");
      seg->set_token(token->value);
      *seg->mutable_expires() = *sdk::tools::ToProtoTimestamp(token->expires);
    }
    *request.add_mechanism_preferences() = std::move(offer);
    return request;
  }

  connection::Mechanism KernelOffer(std::string name = "nsm-1") {
    connection::Mechanism m;
    m.set_cls("LOCAL");
    m.set_type("KERNEL");
    (*m.mutable_parameters())["inodeURL"] = nsc_->ns().InodeUrl();
    (*m.mutable_parameters())["name"] = std::move(name);
    return m;
  }

  absl::StatusOr<connection::Connection> Send(networkservice::NetworkServiceRequest request,
                                              ForwarderServer* forwarder = nullptr) {
    sdk::Context ctx;
    return (forwarder ? forwarder : forwarder_.get())->chain()->Request(ctx, request);
  }

  absl::Status Close(connection::Connection conn, ForwarderServer* forwarder = nullptr) {
    sdk::Context ctx;
    return (forwarder ? forwarder : forwarder_.get())->chain()->Close(ctx, conn);
  }

  struct Snapshots {
    kernel::testing::NetNsSnapshot node, nsc, nse;
  };
  Snapshots Snap() {
    Snapshots s;
    auto node = TakeSnapshot(node_->nl());
    auto nsc = TakeSnapshot(nsc_->nl());
    auto nse = TakeSnapshot(nse_->nl());
    EXPECT_TRUE(node.ok() && nsc.ok() && nse.ok());
    if (node.ok()) s.node = *node;
    if (nsc.ok()) s.nsc = *nsc;
    if (nse.ok()) s.nse = *nse;
    return s;
  }
  void ExpectSame(const Snapshots& before, const Snapshots& after) {
    EXPECT_EQ(before.node, after.node) << "node:\n"
                                       << kernel::testing::DiffSnapshots(before.node, after.node);
    EXPECT_EQ(before.nsc, after.nsc) << "client:\n"
                                     << kernel::testing::DiffSnapshots(before.nsc, after.nsc);
    EXPECT_EQ(before.nse, after.nse) << "endpoint:\n"
                                     << kernel::testing::DiffSnapshots(before.nse, after.nse);
  }

 public:
  // What the next hop answers; cases change them before the request.
  std::string endpoint_interface = "nse-1";
  std::string client_address = "172.16.1.101/32";
  std::string remote_vni = "10";

 protected:
  std::unique_ptr<TestNetNs> node_, peer_, nsc_, nse_;
  std::shared_ptr<sdk::tools::TokenSigner> signer_;
  std::shared_ptr<testing::FakeNsRegistry> ns_registry_;
  std::shared_ptr<testing::FakeNseRegistry> nse_registry_;
  std::shared_ptr<testing::Sink> endpoint_;
  std::unique_ptr<ForwarderServer> forwarder_;
};

TEST_F(ForwarderKernelTest, LocalConnectionIsProgrammedRefreshedInPlaceAndClosedWithoutTrace) {
  const Snapshots before = Snap();
  auto conn = Send(Request("svc", KernelOffer()));
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->network_service_endpoint_name(), "nse-1");
  EXPECT_EQ(conn->mechanism().type(), "KERNEL");
  EXPECT_EQ(conn->path().index(), 1u);
  EXPECT_EQ(conn->path().path_segments(2).name(), "fwd-a");

  // What the kernel holds: each workload's end with its side of the IP context, the two
  // forwarder-side ends redirecting to each other.
  auto nsc_link = nsc_->nl().GetLink("nsm-1");
  ASSERT_TRUE(nsc_link.ok()) << nsc_link.status();
  EXPECT_TRUE(nsc_link->up);
  EXPECT_TRUE(HasAddress(nsc_->nl(), "nsm-1", "172.16.1.101/32"));
  EXPECT_TRUE(HasAddress(nse_->nl(), "nse-1", "172.16.1.100/32"));
  const std::string fwd_id = conn->path().path_segments(2).id();
  const ForwarderDeviceNames names = DeviceNamesFor(fwd_id);
  auto in_index = node_->nl().LinkIndex(names.incoming);
  auto out_index = node_->nl().LinkIndex(names.outgoing);
  ASSERT_TRUE(in_index.ok() && out_index.ok());
  EXPECT_EQ(**node_->nl().IngressRedirectTarget(names.incoming), *out_index);
  EXPECT_EQ(**node_->nl().IngressRedirectTarget(names.outgoing), *in_index);
  auto replies = kernel::testing::Ping(nsc_->ns(), "172.16.1.100", 3, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 3);

  // A refresh with the returned connection changes nothing in the kernel.
  const Snapshots programmed = Snap();
  networkservice::NetworkServiceRequest refresh;
  *refresh.mutable_connection() = *conn;
  auto again = Send(refresh);
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectSame(programmed, Snap());
  EXPECT_EQ(nsc_->nl().GetLink("nsm-1")->index, nsc_link->index);

  // A refresh with another client address moves the address; the interface stays.
  client_address = "172.16.1.103/32";
  *refresh.mutable_connection() = *again;
  auto moved = Send(refresh);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(nsc_->nl().GetLink("nsm-1")->index, nsc_link->index);
  EXPECT_TRUE(HasAddress(nsc_->nl(), "nsm-1", "172.16.1.103/32"));
  EXPECT_FALSE(HasAddress(nsc_->nl(), "nsm-1", "172.16.1.101/32"));
  EXPECT_TRUE(HasAddress(nse_->nl(), "nse-1", "172.16.1.100/32"));

  ASSERT_TRUE(Close(*moved).ok());
  EXPECT_EQ(endpoint_->closes().size(), 1u);
  EXPECT_EQ(forwarder_->dataplane().size(), 0u);
  ExpectSame(before, Snap());
}

TEST_F(ForwarderKernelTest, TowardARemoteNsmgrTheForwarderTunnelsFromItsOwnAddress) {
  const Snapshots before = Snap();
  auto conn = Send(Request("far-svc", KernelOffer()));
  ASSERT_TRUE(conn.ok()) << conn.status();
  const auto offered = endpoint_->requests().back().request.mechanism_preferences();
  ASSERT_EQ(offered.size(), 1);
  EXPECT_EQ(offered[0].type(), "VXLAN");
  EXPECT_EQ(P(offered[0], "src_ip"), "192.0.2.1");
  EXPECT_EQ(P(offered[0], "MTU"), "1446");

  const ForwarderDeviceNames names = DeviceNamesFor(conn->path().path_segments(2).id());
  auto vxlan = node_->nl().GetLink(names.outgoing);
  ASSERT_TRUE(vxlan.ok()) << vxlan.status();
  EXPECT_EQ(vxlan->kind, "vxlan");
  EXPECT_EQ(vxlan->vxlan_vni, 10u);
  EXPECT_EQ(vxlan->vxlan_local, "192.0.2.1");
  EXPECT_EQ(vxlan->vxlan_remote, "192.0.2.2");
  EXPECT_EQ(vxlan->vxlan_port, 4789);
  EXPECT_EQ(vxlan->mtu, 1446u);
  EXPECT_EQ(**node_->nl().IngressRedirectTarget(names.incoming), vxlan->index);

  ASSERT_TRUE(Close(*conn).ok());
  ExpectSame(before, Snap());
}

TEST_F(ForwarderKernelTest, FromARemoteForwarderTheVniFollowsTheParityRule) {
  const Snapshots before = Snap();
  connection::Mechanism offer;
  offer.set_cls("REMOTE");
  offer.set_type("VXLAN");
  (*offer.mutable_parameters())["src_ip"] = "192.0.2.2";
  (*offer.mutable_parameters())["src_port"] = "4789";
  (*offer.mutable_parameters())["MTU"] = "1400";
  auto request = Request("svc", offer);
  request.mutable_connection()->set_network_service_endpoint_name("nse-1");
  auto conn = Send(request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->mechanism().type(), "VXLAN");
  EXPECT_EQ(P(conn->mechanism(), "dst_ip"), "192.0.2.1");
  EXPECT_EQ(P(conn->mechanism(), "dst_port"), "4789");
  EXPECT_EQ(P(conn->mechanism(), "MTU"), "1400");
  const std::uint32_t vni = std::stoul(P(conn->mechanism(), "vni"));
  EXPECT_EQ(vni % 2, 1u) << "src 192.0.2.2 > dst 192.0.2.1: odd";
  EXPECT_EQ(conn->context().mtu(), 1400u);

  const ForwarderDeviceNames names = DeviceNamesFor(conn->path().path_segments(2).id());
  auto vxlan = node_->nl().GetLink(names.incoming);
  ASSERT_TRUE(vxlan.ok()) << vxlan.status();
  EXPECT_EQ(vxlan->vxlan_vni, vni);
  EXPECT_EQ(vxlan->vxlan_local, "192.0.2.1");
  EXPECT_EQ(vxlan->vxlan_remote, "192.0.2.2");
  EXPECT_EQ(vxlan->mtu, 1400u);
  EXPECT_EQ(nse_->nl().GetLink("nse-1")->mtu, 1400u);

  ASSERT_TRUE(Close(*conn).ok());
  ExpectSame(before, Snap());
}

struct BadCase {
  const char* label;
  std::function<void(ForwarderKernelTest&, networkservice::NetworkServiceRequest&)> arrange;
  const char* names;      // what the error must name
  bool reaches_endpoint;  // the failure comes after the next hop answered
};

class ForwarderBadInputTest : public ForwarderKernelTest,
                              public ::testing::WithParamInterface<BadCase> {};

TEST_P(ForwarderBadInputTest, IsRefusedWithAClearErrorAndLeavesNothingBehind) {
  const Snapshots before = Snap();
  auto request = Request("svc", KernelOffer());
  GetParam().arrange(*this, request);
  auto conn = Send(request);
  ASSERT_FALSE(conn.ok());
  EXPECT_THAT(conn.status().message(), HasSubstr(GetParam().names));
  ExpectSame(before, Snap());
  EXPECT_EQ(forwarder_->dataplane().size(), 0u);
  EXPECT_EQ(endpoint_->requests().size(), GetParam().reaches_endpoint ? 1u : 0u);
  EXPECT_EQ(endpoint_->closes().size(), endpoint_->requests().size())
      << "what the endpoint set up is closed again";
}

connection::Mechanism* Offer(networkservice::NetworkServiceRequest& r) {
  return r.mutable_mechanism_preferences(0);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ForwarderBadInputTest,
    ::testing::Values(BadCase{"UnknownMechanismType",
                              [](ForwarderKernelTest&, networkservice::NetworkServiceRequest& r) {
                                Offer(r)->set_type("SOCKS");
                              },
                              "SOCKS", false},
                      BadCase{"InterfaceNameTooLong",
                              [](ForwarderKernelTest&, networkservice::NetworkServiceRequest& r) {
                                (*Offer(r)->mutable_parameters())["name"] = "0123456789abcdef";
                              },
                              // Refused by request validation, before any element acts on it.
                              "mechanism_preferences[0].parameters[\"name\"]", false},
                      BadCase{"MissingNetns",
                              [](ForwarderKernelTest&, networkservice::NetworkServiceRequest& r) {
                                Offer(r)->mutable_parameters()->erase("inodeURL");
                              },
                              "parameter inodeURL: missing", false},
                      BadCase{"VanishedNetns",
                              [](ForwarderKernelTest&, networkservice::NetworkServiceRequest& r) {
                                (*Offer(r)->mutable_parameters())["inodeURL"] = "inode://4/1";
                              },
                              "inode://4/1", false},
                      BadCase{"VniOutOfRange",
                              [](ForwarderKernelTest&, networkservice::NetworkServiceRequest& r) {
                                connection::Mechanism* m = Offer(r);
                                m->set_cls("REMOTE");
                                m->set_type("VXLAN");
                                m->mutable_parameters()->clear();
                                (*m->mutable_parameters())["src_ip"] = "192.0.2.2";
                                (*m->mutable_parameters())["vni"] = "16777216";
                              },
                              "VXLAN mechanism parameter vni", false},
                      BadCase{"BadCidrFromTheEndpoint",
                              [](ForwarderKernelTest& t, networkservice::NetworkServiceRequest&) {
                                t.client_address = "172.16.1.300/32";
                              },
                              "src_ip_addrs[0]", true},
                      BadCase{"EndpointInterfaceNameTooLong",
                              [](ForwarderKernelTest& t, networkservice::NetworkServiceRequest&) {
                                t.endpoint_interface = "0123456789abcdef";
                              },
                              "outgoing side (KERNEL mechanism): KERNEL mechanism parameter name",
                              true},
                      BadCase{"RemoteVniOfTheWrongParity",
                              [](ForwarderKernelTest& t, networkservice::NetworkServiceRequest& r) {
                                r.mutable_connection()->set_network_service("far-svc");
                                t.remote_vni = "11";
                              },
                              "vni: 11 must be even", true}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.label; });

TEST_F(ForwarderKernelTest, AnInterfaceNameTakenInTheClientNamespaceIsRefusedAndKept) {
  ASSERT_TRUE(nsc_->nl().CreateVeth("nsm-1", "other-end").ok());
  const Snapshots before = Snap();
  auto conn = Send(Request("svc", KernelOffer()));
  ASSERT_FALSE(conn.ok());
  // The mechanisms element reports every failed preference as INVALID_ARGUMENT; the message keeps
  // the kernel's answer.
  EXPECT_THAT(conn.status().message(), HasSubstr("nsm-1"));
  EXPECT_THAT(conn.status().message(), HasSubstr("exists"));
  ExpectSame(before, Snap());
  EXPECT_EQ(endpoint_->closes().size(), 1u);
}

TEST_F(ForwarderKernelTest, ARestartedForwarderTakesOverTheDevicesOfAConnectionItIsAskedFor) {
  const Snapshots before = Snap();
  auto conn = Send(Request("svc", KernelOffer()));
  ASSERT_TRUE(conn.ok()) << conn.status();
  // A second forwarder instance knows nothing of the connection, as after a restart.
  std::unique_ptr<ForwarderServer> restarted = MakeForwarder();
  networkservice::NetworkServiceRequest again;
  *again.mutable_connection() = *conn;
  *again.add_mechanism_preferences() = KernelOffer();
  auto taken = Send(again, restarted.get());
  ASSERT_TRUE(taken.ok()) << taken.status();
  auto replies = kernel::testing::Ping(nsc_->ns(), "172.16.1.100", 2, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 2);
  ASSERT_TRUE(Close(*taken, restarted.get()).ok());
  ExpectSame(before, Snap());
  // The first instance's Close finds nothing left to remove.
  EXPECT_TRUE(Close(*conn).ok());
  ExpectSame(before, Snap());
}

// KernelDataplane on its own: an Apply or a Remove of a local connection enters each namespace
// once (node, client, endpoint) however many plans touch it, and Apply first removes a device of
// the same connection that a crashed earlier run left behind.
TEST_F(ForwarderKernelTest, TheDataplaneEntersEachNamespaceOncePerOperation) {
  const Snapshots before = Snap();
  kernel::KernelInterfaceInput nsc;
  nsc.side = kernel::ConnectionSide::kClient;
  nsc.workload_netns = nsc_->ns().InodeUrl();
  nsc.forwarder_netns = node_->name();
  nsc.interface_name = "nsm-1";
  nsc.forwarder_interface_name = "fwi-dp-test";
  nsc.ip_context.src_ip_addrs = {"10.82.0.1/31"};
  nsc.ip_context.dst_ip_addrs = {"10.82.0.0/31"};
  kernel::KernelInterfaceInput nse = nsc;
  nse.side = kernel::ConnectionSide::kEndpoint;
  nse.workload_netns = nse_->ns().InodeUrl();
  nse.interface_name = "nse-1";
  nse.forwarder_interface_name = "fwo-dp-test";
  auto nsc_plan = kernel::BuildInterfacePlan(nsc);
  auto nse_plan = kernel::BuildInterfacePlan(nse);
  auto xc = kernel::BuildXconnectPlan({node_->name(), "fwi-dp-test", "fwo-dp-test"});
  ASSERT_TRUE(nsc_plan.ok() && nse_plan.ok() && xc.ok());
  ConnectionPlans plans;
  plans.incoming.interface = *nsc_plan;
  plans.outgoing.interface = *nse_plan;
  plans.xconnect = *xc;

  // The leftover: a device under this connection's incoming name.
  ASSERT_TRUE(node_->nl().CreateBridge("fwi-dp-test").ok());
  KernelDataplane dataplane;
  std::uint64_t threads = kernel::NetNsThreadsStarted();
  absl::Status applied = dataplane.Apply(plans);
  ASSERT_TRUE(applied.ok()) << applied;
  EXPECT_EQ(kernel::NetNsThreadsStarted() - threads, 3u);
  auto link = node_->nl().GetLink("fwi-dp-test");
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_EQ(link->kind, "veth");
  auto replies = kernel::testing::Ping(nsc_->ns(), "10.82.0.0", 2, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 2);

  threads = kernel::NetNsThreadsStarted();
  absl::Status removed = dataplane.Remove(plans);
  ASSERT_TRUE(removed.ok()) << removed;
  EXPECT_EQ(kernel::NetNsThreadsStarted() - threads, 3u);
  ExpectSame(before, Snap());
}

TEST_F(ForwarderKernelTest, AConnectionClosesWhenItsEndpointsNamespaceIsGone) {
  sdk::FakeClock clock;
  std::unique_ptr<ForwarderServer> forwarder = MakeForwarder(&clock);
  auto node_before = TakeSnapshot(node_->nl());
  auto nsc_before = TakeSnapshot(nsc_->nl());
  ASSERT_TRUE(node_before.ok() && nsc_before.ok());
  auto conn = Send(Request("svc", KernelOffer()), forwarder.get());
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto events = forwarder->monitor()->Subscribe(connection::MonitorScopeSelector());
  ASSERT_TRUE(events->Next(absl::Seconds(1)).has_value());  // the initial transfer

  // The endpoint's last process exits: its namespace and everything in it go away.
  nse_.reset();
  // The kernel tears a namespace down asynchronously; give it real time, and the monitor polls.
  for (int i = 0; i < 100 && endpoint_->closes().empty(); ++i) {
    clock.Advance(absl::Seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(endpoint_->closes().size(), 1u);
  EXPECT_EQ(forwarder->dataplane().size(), 0u);
  auto deleted = events->Next(absl::Seconds(1));
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->type(), connection::DELETE);
  EXPECT_EQ(*TakeSnapshot(node_->nl()), *node_before);
  EXPECT_EQ(*TakeSnapshot(nsc_->nl()), *nsc_before);
  EXPECT_FALSE(nsc_->nl().GetLink("nsm-1").ok());
}

}  // namespace
}  // namespace nsmcert::forwarder
