#include "bench/datapath/path.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reference/kernel/ip.h"
#include "reference/kernel/netlink.h"
#include "reference/kernel/netns.h"

namespace nsmcert::bench {
namespace {

using kernel::Netlink;
using kernel::NetNs;
using kernel::ScopedNamedNetNs;

// Workload addresses (the same on every path: each path lives in its own namespaces).
constexpr char kClientCidr[] = "10.250.0.1/24";
constexpr char kServerCidr[] = "10.250.0.2/24";
constexpr char kClientIp[] = "10.250.0.1";
constexpr char kServerIp[] = "10.250.0.2";
// The underlay between the two node namespaces of the VXLAN paths.
constexpr char kUnderlayCidrA[] = "172.31.255.1/24";
constexpr char kUnderlayCidrB[] = "172.31.255.2/24";
constexpr char kUnderlayIpA[] = "172.31.255.1";
constexpr char kUnderlayIpB[] = "172.31.255.2";
constexpr std::uint32_t kVni = 4242;
// Workload links carry standard 1518-byte frames (MTU 1500); the underlay is big enough for
// them plus the 50 bytes of VXLAN/UDP/IPv4/Ethernet encapsulation, so every RFC 2544 frame size
// crosses both VXLAN paths unfragmented and the comparison is like for like.
constexpr std::uint32_t kWorkloadMtu = 1500;
constexpr std::uint32_t kUnderlayMtu = 1600;
constexpr char kWorkloadLink[] = "bench0";

std::string UniqueName(std::string_view path, std::string_view role) {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string suffix;
  std::uint64_t r = rng();
  for (int i = 0; i < 6; ++i) suffix.push_back(kHex[(r >> (4 * i)) & 0xf]);
  return absl::StrCat(kBenchNetNsPrefix, std::string(path), "-", std::string(role), "-", getpid(),
                      "-", suffix);
}

absl::Status Annotate(const absl::Status& s, std::string_view step) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(std::string(step), ": ", s.message()));
}

// A named namespace with a netlink socket inside it, owned by a path.
struct Node {
  ScopedNamedNetNs netns;
  std::unique_ptr<Netlink> nl;
};

// The plumbing every built-in path shares: namespaces created on demand and removed together.
class KernelPath : public PathUnderTest {
 public:
  explicit KernelPath(std::string name) : name_(std::move(name)) {}
  ~KernelPath() override { Teardown().IgnoreError(); }

  absl::Status Setup() final {
    if (set_up_) return absl::FailedPreconditionError(absl::StrCat(name_, ": already set up"));
    absl::Status built = Build();
    if (!built.ok()) {
      Teardown().IgnoreError();
      return Annotate(built, absl::StrCat("set up path ", name_));
    }
    set_up_ = true;
    return absl::OkStatus();
  }

  const Endpoint& client() const final { return client_; }
  const Endpoint& server() const final { return server_; }

  absl::Status Teardown() final {
    absl::Status first;
    // Sockets first (they hold the namespaces), then the names; the kernel destroys each
    // namespace, and every device in it, once nothing refers to it any more.
    for (auto& node : nodes_) node->nl.reset();
    for (auto& node : nodes_) {
      absl::Status s = node->netns.Delete();
      if (!s.ok() && !absl::IsNotFound(s) && first.ok()) first = s;
    }
    nodes_.clear();
    client_ = {};
    server_ = {};
    set_up_ = false;
    return first;
  }

 protected:
  virtual absl::Status Build() = 0;

  absl::StatusOr<Node*> AddNode(std::string_view role) {
    absl::StatusOr<ScopedNamedNetNs> netns = ScopedNamedNetNs::Create(UniqueName(name_, role));
    if (!netns.ok()) return netns.status();
    absl::StatusOr<std::unique_ptr<Netlink>> nl = Netlink::Open(netns->ns());
    if (!nl.ok()) return nl.status();
    auto node = std::make_unique<Node>(Node{*std::move(netns), *std::move(nl)});
    if (absl::Status s = node->nl->SetUp("lo", true); !s.ok()) return s;
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }

  static Endpoint EndpointOf(const Node& node, std::string ip) {
    return Endpoint{&node.netns.ns(), node.netns.name(), std::move(ip)};
  }

  // The workload end of a path: address and link up.
  static absl::Status ConfigureWorkload(Node& node, std::string_view cidr) {
    if (absl::Status s = node.nl->AddAddress(kWorkloadLink, cidr); !s.ok()) return s;
    return node.nl->SetUp(kWorkloadLink, true);
  }

  // Joins two links of one namespace L2-transparently, as the reference forwarder does.
  static absl::Status CrossConnect(Node& node, std::string_view a, std::string_view b) {
    if (absl::Status s = node.nl->SetUp(a, true); !s.ok()) return s;
    if (absl::Status s = node.nl->SetUp(b, true); !s.ok()) return s;
    if (absl::Status s = node.nl->RedirectIngress(a, b); !s.ok()) return s;
    return node.nl->RedirectIngress(b, a);
  }

  // An underlay veth between two node namespaces and a VXLAN device in each, both up.
  static absl::Status BuildVxlanPair(Node& a, Node& b, std::string_view vxlan_name) {
    if (absl::Status s = a.nl->CreateVeth("ul0", "ul0", &b.netns.ns(), kUnderlayMtu); !s.ok()) {
      return Annotate(s, "underlay veth");
    }
    struct Side {
      Node& node;
      const char* cidr;
      const char* local;
      const char* remote;
    };
    for (const Side& side : {Side{a, kUnderlayCidrA, kUnderlayIpA, kUnderlayIpB},
                             Side{b, kUnderlayCidrB, kUnderlayIpB, kUnderlayIpA}}) {
      if (absl::Status s = side.node.nl->AddAddress("ul0", side.cidr); !s.ok()) return s;
      if (absl::Status s = side.node.nl->SetUp("ul0", true); !s.ok()) return s;
      kernel::VxlanSpec vxlan;
      vxlan.name = std::string(vxlan_name);
      vxlan.vni = kVni;
      vxlan.local_ip = side.local;
      vxlan.remote_ip = side.remote;
      vxlan.underlay_device = "ul0";
      vxlan.mtu = kWorkloadMtu;
      if (absl::Status s = side.node.nl->CreateVxlan(vxlan); !s.ok()) {
        return Annotate(s, "vxlan device");
      }
      if (absl::Status s = side.node.nl->SetUp(vxlan_name, true); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  Endpoint client_;
  Endpoint server_;

 private:
  std::string name_;
  bool set_up_ = false;
  std::vector<std::unique_ptr<Node>> nodes_;  // pointers stay valid for the endpoints
};

class PlainVethPath final : public KernelPath {
 public:
  PlainVethPath() : KernelPath("plain-veth") {}

 private:
  absl::Status Build() override {
    absl::StatusOr<Node*> client = AddNode("client");
    if (!client.ok()) return client.status();
    absl::StatusOr<Node*> server = AddNode("server");
    if (!server.ok()) return server.status();
    absl::Status s = (*client)->nl->CreateVeth(kWorkloadLink, kWorkloadLink, &(*server)->netns.ns(),
                                               kWorkloadMtu);
    if (!s.ok()) return Annotate(s, "veth");
    if (s = ConfigureWorkload(**client, kClientCidr); !s.ok()) return s;
    if (s = ConfigureWorkload(**server, kServerCidr); !s.ok()) return s;
    client_ = EndpointOf(**client, kClientIp);
    server_ = EndpointOf(**server, kServerIp);
    return absl::OkStatus();
  }
};

class VethXconnectPath final : public KernelPath {
 public:
  VethXconnectPath() : KernelPath("veth-xconnect") {}

 private:
  absl::Status Build() override {
    absl::StatusOr<Node*> client = AddNode("client");
    if (!client.ok()) return client.status();
    absl::StatusOr<Node*> forwarder = AddNode("fwd");
    if (!forwarder.ok()) return forwarder.status();
    absl::StatusOr<Node*> server = AddNode("server");
    if (!server.ok()) return server.status();
    Netlink& fwd = *(*forwarder)->nl;
    absl::Status s =
        fwd.CreateVeth("xc-client", kWorkloadLink, &(*client)->netns.ns(), kWorkloadMtu);
    if (!s.ok()) return Annotate(s, "client veth");
    s = fwd.CreateVeth("xc-server", kWorkloadLink, &(*server)->netns.ns(), kWorkloadMtu);
    if (!s.ok()) return Annotate(s, "server veth");
    if (s = CrossConnect(**forwarder, "xc-client", "xc-server"); !s.ok()) {
      return Annotate(s, "cross-connect");
    }
    if (s = ConfigureWorkload(**client, kClientCidr); !s.ok()) return s;
    if (s = ConfigureWorkload(**server, kServerCidr); !s.ok()) return s;
    client_ = EndpointOf(**client, kClientIp);
    server_ = EndpointOf(**server, kServerIp);
    return absl::OkStatus();
  }
};

class PlainVxlanPath final : public KernelPath {
 public:
  PlainVxlanPath() : KernelPath("plain-vxlan") {}

 private:
  absl::Status Build() override {
    absl::StatusOr<Node*> a = AddNode("node-a");
    if (!a.ok()) return a.status();
    absl::StatusOr<Node*> b = AddNode("node-b");
    if (!b.ok()) return b.status();
    // The workload addresses sit on the VXLAN devices themselves: no cross-connect.
    if (absl::Status s = BuildVxlanPair(**a, **b, kWorkloadLink); !s.ok()) return s;
    if (absl::Status s = (*a)->nl->AddAddress(kWorkloadLink, kClientCidr); !s.ok()) return s;
    if (absl::Status s = (*b)->nl->AddAddress(kWorkloadLink, kServerCidr); !s.ok()) return s;
    client_ = EndpointOf(**a, kClientIp);
    server_ = EndpointOf(**b, kServerIp);
    return absl::OkStatus();
  }
};

class VxlanXconnectPath final : public KernelPath {
 public:
  VxlanXconnectPath() : KernelPath("vxlan-xconnect") {}

 private:
  absl::Status Build() override {
    absl::StatusOr<Node*> client = AddNode("client");
    if (!client.ok()) return client.status();
    absl::StatusOr<Node*> a = AddNode("node-a");
    if (!a.ok()) return a.status();
    absl::StatusOr<Node*> b = AddNode("node-b");
    if (!b.ok()) return b.status();
    absl::StatusOr<Node*> server = AddNode("server");
    if (!server.ok()) return server.status();
    if (absl::Status s = BuildVxlanPair(**a, **b, "vx0"); !s.ok()) return s;
    for (auto [node, workload] : {std::pair{*a, *client}, std::pair{*b, *server}}) {
      absl::Status s =
          node->nl->CreateVeth("xc-wl", kWorkloadLink, &workload->netns.ns(), kWorkloadMtu);
      if (!s.ok()) return Annotate(s, "workload veth");
      if (s = CrossConnect(*node, "xc-wl", "vx0"); !s.ok()) return Annotate(s, "cross-connect");
    }
    if (absl::Status s = ConfigureWorkload(**client, kClientCidr); !s.ok()) return s;
    if (absl::Status s = ConfigureWorkload(**server, kServerCidr); !s.ok()) return s;
    client_ = EndpointOf(**client, kClientIp);
    server_ = EndpointOf(**server, kServerIp);
    return absl::OkStatus();
  }
};

class ExternalPath final : public PathUnderTest {
 public:
  ExternalPath(std::string client_ns, std::string client_ip, std::string server_ns,
               std::string server_ip)
      : client_ns_name_(std::move(client_ns)),
        client_ip_(std::move(client_ip)),
        server_ns_name_(std::move(server_ns)),
        server_ip_(std::move(server_ip)) {}

  absl::Status Setup() override {
    if (client_ns_.valid()) return absl::FailedPreconditionError("external path: already set up");
    absl::StatusOr<NetNs> c = NetNs::FromName(client_ns_name_);
    if (!c.ok()) return Annotate(c.status(), "external path client-ns");
    absl::StatusOr<NetNs> s = NetNs::FromName(server_ns_name_);
    if (!s.ok()) return Annotate(s.status(), "external path server-ns");
    client_ns_ = *std::move(c);
    server_ns_ = *std::move(s);
    client_ = {&client_ns_, client_ns_name_, client_ip_};
    server_ = {&server_ns_, server_ns_name_, server_ip_};
    return absl::OkStatus();
  }
  const Endpoint& client() const override { return client_; }
  const Endpoint& server() const override { return server_; }
  absl::Status Teardown() override {
    client_ = {};
    server_ = {};
    client_ns_ = NetNs();
    server_ns_ = NetNs();
    return absl::OkStatus();
  }

 private:
  std::string client_ns_name_, client_ip_, server_ns_name_, server_ip_;
  NetNs client_ns_, server_ns_;
  Endpoint client_, server_;
};

}  // namespace

std::vector<PathKind> BuiltinPaths() {
  return {
      {"plain-veth", "", "two namespaces on a veth pair",
       [] { return std::make_unique<PlainVethPath>(); }},
      {"veth-xconnect", "plain-veth",
       "client -> veth -> forwarder ns (tc mirred cross-connect) -> veth -> server",
       [] { return std::make_unique<VethXconnectPath>(); }},
      {"plain-vxlan", "", "two node namespaces on an underlay veth, addresses on VXLAN devices",
       [] { return std::make_unique<PlainVxlanPath>(); }},
      {"vxlan-xconnect", "plain-vxlan",
       "workload -> veth -> node (cross-connected to VXLAN) -> underlay -> node -> veth -> "
       "workload",
       [] { return std::make_unique<VxlanXconnectPath>(); }},
  };
}

absl::StatusOr<PathKind> FindBuiltinPath(std::string_view name) {
  std::vector<std::string> names;
  for (PathKind& kind : BuiltinPaths()) {
    if (kind.name == name) return std::move(kind);
    names.push_back(kind.name);
  }
  return absl::NotFoundError(
      absl::StrCat("path \"", std::string(name),
                   "\": not a built-in path (known: ", absl::StrJoin(names, ", "), ")"));
}

absl::StatusOr<PathKind> ParseExternalPath(std::string_view spec) {
  std::map<std::string, std::string> fields;
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t end = spec.find(',', pos);
    if (end == std::string_view::npos) end = spec.size();
    std::string_view item = spec.substr(pos, end - pos);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat("external path \"", std::string(spec),
                                                     "\": expected key=value, got \"",
                                                     std::string(item), "\""));
    }
    std::string key(item.substr(0, eq));
    if (key != "name" && key != "baseline" && key != "client-ns" && key != "client-ip" &&
        key != "server-ns" && key != "server-ip") {
      return absl::InvalidArgumentError(
          absl::StrCat("external path: unknown key \"", key,
                       "\" (known: name, baseline, client-ns, client-ip, server-ns, server-ip)"));
    }
    fields[key] = std::string(item.substr(eq + 1));
    pos = end + 1;
  }
  for (const char* required : {"name", "client-ns", "client-ip", "server-ns", "server-ip"}) {
    if (fields[required].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("external path: missing ", required));
    }
  }
  for (const char* ip_key : {"client-ip", "server-ip"}) {
    absl::StatusOr<kernel::IpAddress> ip =
        kernel::IpAddress::Parse(fields[ip_key], absl::StrCat("external path ", ip_key));
    if (!ip.ok()) return ip.status();
  }
  for (const char* ns_key : {"client-ns", "server-ns"}) {
    if (absl::Status s = kernel::ValidateNetNsName(fields[ns_key]); !s.ok()) {
      return Annotate(s, absl::StrCat("external path ", ns_key));
    }
  }
  PathKind kind;
  kind.name = fields["name"];
  kind.baseline = fields["baseline"];
  kind.description =
      absl::StrCat("existing namespaces ", fields["client-ns"], " -> ", fields["server-ns"]);
  kind.make = [fields]() mutable -> std::unique_ptr<PathUnderTest> {
    return std::make_unique<ExternalPath>(fields["client-ns"], fields["client-ip"],
                                          fields["server-ns"], fields["server-ip"]);
  };
  return kind;
}

std::vector<std::string> SweepStaleNetNs() {
  std::vector<std::string> removed;
  const std::string prefix = kBenchNetNsPrefix;
  for (const std::string& name : kernel::ListNamedNetNs()) {
    if (!name.starts_with(prefix)) continue;
    // "...-<pid>-<random>": the pid is the second field from the end.
    size_t last = name.rfind('-');
    if (last == std::string::npos || last == 0) continue;
    size_t before = name.rfind('-', last - 1);
    if (before == std::string::npos) continue;
    std::string pid_text = name.substr(before + 1, last - before - 1);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == getpid() || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    if (kernel::DeleteNamedNetNs(name).ok()) removed.push_back(name);
  }
  return removed;
}

}  // namespace nsmcert::bench
