// HEAL-001..HEAL-004: healing after the death of each role on the path (spec §11, §14 F.47-53,
// A.8). A long-running NSC in nsc-a keeps a local connection to the NSE in nse-a; the case kills
// one role and checks that the client's connection comes back (UP on the nsmgr's monitor with a
// full path) and that packets flow again (ping to the connection's dst address).
//   HEAL-001  the NSE's pod dies (process killed, namespace re-created empty) and a second NSE
//             offers the service: the connection moves to it.
//   HEAL-002  the forwarder of node-a is killed and restarted (same name).
//   HEAL-003  the nsmgr of node-a is killed and restarted (same URLs).
//   HEAL-004  the registry is killed and restarted: the connection keeps working and new
//             connections are possible once it is back.
//   HEAL-005..007  as HEAL-001..003 with the NSE on node-b (a VXLAN connection) and the victim on
//             node-b: the NSE's pod, the forwarder, the nsmgr.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

enum class Victim { kNse, kForwarder, kNsmgr, kRegistry };

constexpr absl::Duration kHealTimeout = absl::Seconds(40);

template <Victim kVictim, bool kRemote = false>
class HealAfterDeath : public DomainCase {
 public:
  static CaseInfo Info();

  absl::Status Act(CaseContext& context) override {
    EndpointOptions nse;
    nse.workload = EndpointWorkload();
    nse.cidr = "172.16.1.100/30";  // room for a second connection (HEAL-004)
    NSMCERT_CASE_ASSIGN_OR_RETURN(first_nse_, StartEndpoint(nse));
    ClientOptions nsc;
    nsc.workload = std::string(kClientWorkload);
    nsc.env = {{"NSM_LIVENESS_CHECK_INTERVAL", "200ms"}, {"NSM_LIVENESS_CHECK_TIMEOUT", "1s"}};
    NSMCERT_CASE_ASSIGN_OR_RETURN(client_, domain().StartClient(nsc));
    NSMCERT_CASE_ASSIGN_OR_RETURN(before_,
                                  domain().WaitForClientConnections(*client_, absl::Seconds(30)));
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(ClientNetns(), FirstDstIp(before_[0])));

    RunningRole* victim = nullptr;
    switch (kVictim) {
      case Victim::kNse: {
        EndpointOptions second;
        second.workload = Cat(EndpointWorkload(), "2");
        second.cidr = "172.16.2.100/31";
        NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(second).status());
        victim = first_nse_->role.get();
        break;
      }
      case Victim::kForwarder:
        victim = domain().forwarder(VictimNode());
        break;
      case Victim::kNsmgr:
        victim = domain().nsmgr(VictimNode());
        break;
      case Victim::kRegistry:
        victim = &domain().registry();
        break;
    }
    if (!victim->supervised()) {
      return CaseSkip(Cat("the ", RoleName(victim->role()),
                          " is reached at an address: the suite cannot kill it"));
    }
    context.log().Write(Cat("killing ", victim->name()));
    if (kVictim == Victim::kNse) {
      // A pod's death: the process and its namespace go (with the NSE's end of the data path,
      // which would otherwise keep answering the client's liveness pings, spec §11).
      NSMCERT_CASE_RETURN_IF_ERROR(victim->Kill());
      first_nse_ = nullptr;
      // Forget the dead process, then give the workload an empty namespace.
      NSMCERT_CASE_RETURN_IF_ERROR(domain().StopEndpoint(EndpointWorkload()));
      NSMCERT_CASE_RETURN_IF_ERROR(domain().RecreateWorkloadNamespace(EndpointWorkload()));
    } else {
      NSMCERT_CASE_RETURN_IF_ERROR(victim->Kill());
    }
    if (kVictim != Victim::kNse) {
      NSMCERT_CASE_RETURN_IF_ERROR(victim->Restart(absl::Seconds(20)));
      context.log().Write(Cat(victim->name(), " restarted"));
    }
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    // Moved to the other NSE after an NSE death; otherwise any UP connection with a full path.
    const std::vector<connection::Connection> different =
        kVictim == Victim::kNse ? before_ : std::vector<connection::Connection>{};
    auto after = domain().WaitForClientConnections(*client_, kHealTimeout, different);
    if (!after.ok()) {
      return CaseFailure(Cat("the client's connection to come back after the ", VictimName(),
                             " was killed: ", std::string(after.status().message()),
                             "\nclient log:\n", client_->LogTail(15)));
    }
    if (kVictim == Victim::kNse) {
      context.Check(ExpectEq("endpoint after the first NSE died", Cat(EndpointWorkload(), "2"),
                             (*after)[0].network_service_endpoint_name()));
    }
    if (kVictim == Victim::kForwarder || kVictim == Victim::kNsmgr) {
      // The restarted process starts with no memory: holding the client's connection again proves
      // that a Request went through it (kernel state that merely outlived the death would not).
      NSMCERT_CASE_RETURN_IF_ERROR(ExpectRestartedHolds(context));
    }
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectPing(ClientNetns(), FirstDstIp((*after)[0]), absl::Seconds(20)));
    if (kVictim == Victim::kRegistry) {
      // New connections work once the registry is back (registrations healed).
      const absl::Time until = absl::Now() + absl::Seconds(30);
      RequestSpec spec = KernelRequest("icmp-responder", "new");
      spec.interface_name = "nsm-9";
      RequestResult fresh;
      NsmCallOptions options;
      options.deadline = absl::Seconds(3);
      do {
        fresh = client().Request(MakeRequest(spec), options);
        if (fresh.ok()) break;
        absl::SleepFor(absl::Milliseconds(500));
      } while (absl::Now() < until);
      if (!fresh.ok()) {
        return CaseFailure(
            Cat("a new Request after the registry restart: expected OK within "
                "30s, observed ",
                DescribeStatus(fresh.status)));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status ExpectRestartedHolds(CaseContext&) {
    const std::string client_id = client_->connection_ids().front();
    const absl::Time until = absl::Now() + kHealTimeout;
    std::string last;
    while (true) {
      absl::StatusOr<std::map<std::string, connection::Connection>> held =
          kVictim == Victim::kNsmgr
              ? domain().MonitorSnapshot(VictimNode())
              : domain().MonitorSnapshotAt(domain().forwarder(VictimNode())->url());
      if (held.ok()) {
        for (const auto& [key, conn] : *held) {
          if (conn.path().path_segments_size() > 0 &&
              conn.path().path_segments(0).id() == client_id) {
            return absl::OkStatus();
          }
        }
        last = Cat(held->size(), " other connection(s)");
      } else {
        last = std::string(held.status().message());
      }
      if (absl::Now() >= until) break;
      absl::SleepFor(absl::Milliseconds(200));
    }
    return CaseFailure(Cat("the restarted ", VictimName(), " of ", VictimNode(),
                           " to hold the client's connection ", client_id,
                           " again (the client's heal re-requested through it), observed ", last));
  }

  static std::string EndpointWorkload() { return kRemote ? "nse-b" : "nse-a"; }
  static std::string_view VictimNode() { return kRemote ? kNodeB : kNodeA; }
  static std::string VictimName() {
    switch (kVictim) {
      case Victim::kNse:
        return "NSE";
      case Victim::kForwarder:
        return "forwarder";
      case Victim::kNsmgr:
        return "nsmgr";
      case Victim::kRegistry:
        return "registry";
    }
    return "";
  }

  DomainEndpoint* first_nse_ = nullptr;
  DomainClient* client_ = nullptr;
  std::vector<connection::Connection> before_;
};

CaseInfo HealInfo(std::string id, std::string title, std::string spec) {
  CaseInfo info;
  info.id = std::move(id);
  info.title = std::move(title);
  info.level = Level::kMust;
  info.area = Area::kHeal;
  info.features = {"mechanism.kernel", "heal"};
  info.spec = std::move(spec);
  info.timeout = absl::Seconds(120);
  return info;
}

template <>
CaseInfo HealAfterDeath<Victim::kNse>::Info() {
  return HealInfo("HEAL-001", "NSE killed: the client reselects the other NSE and pings it",
                  "§11, §14 F.47");
}
template <>
CaseInfo HealAfterDeath<Victim::kForwarder>::Info() {
  return HealInfo("HEAL-002", "Local forwarder killed and restarted: the connection comes back",
                  "§11, §14 F.49");
}
template <>
CaseInfo HealAfterDeath<Victim::kNsmgr>::Info() {
  return HealInfo("HEAL-003", "Local nsmgr killed and restarted: the connection comes back",
                  "§11, §14 F.51");
}
template <>
CaseInfo HealAfterDeath<Victim::kNse, true>::Info() {
  CaseInfo info =
      HealInfo("HEAL-005", "Remote NSE's pod dies: the client reselects the other remote NSE",
               "§11, §14 F.48");
  info.features.push_back("mechanism.vxlan");
  return info;
}
template <>
CaseInfo HealAfterDeath<Victim::kForwarder, true>::Info() {
  CaseInfo info =
      HealInfo("HEAL-006", "Remote forwarder killed and restarted: the connection comes back",
               "§11, §14 F.50");
  info.features.push_back("mechanism.vxlan");
  return info;
}
template <>
CaseInfo HealAfterDeath<Victim::kNsmgr, true>::Info() {
  CaseInfo info = HealInfo(
      "HEAL-007", "Remote nsmgr killed and restarted: the connection comes back", "§11, §14 F.52");
  info.features.push_back("mechanism.vxlan");
  return info;
}
template <>
CaseInfo HealAfterDeath<Victim::kRegistry>::Info() {
  return HealInfo("HEAL-004",
                  "Registry killed and restarted: the connection keeps working, new ones follow",
                  "§8.2, §11, §14 A.8");
}

using Heal001 = HealAfterDeath<Victim::kNse>;
using Heal002 = HealAfterDeath<Victim::kForwarder>;
using Heal003 = HealAfterDeath<Victim::kNsmgr>;
using Heal004 = HealAfterDeath<Victim::kRegistry>;
using Heal005 = HealAfterDeath<Victim::kNse, true>;
using Heal006 = HealAfterDeath<Victim::kForwarder, true>;
using Heal007 = HealAfterDeath<Victim::kNsmgr, true>;
NSMCERT_REGISTER_CASE(Heal001);
NSMCERT_REGISTER_CASE(Heal002);
NSMCERT_REGISTER_CASE(Heal003);
NSMCERT_REGISTER_CASE(Heal004);
NSMCERT_REGISTER_CASE(Heal005);
NSMCERT_REGISTER_CASE(Heal006);
NSMCERT_REGISTER_CASE(Heal007);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
