// NEG-010: Close of a connection the nsmgr never saw (spec §5.4: errors tolerated so a Close
// reaches the end) neither crashes nor disturbs anything: it returns (OK or a clear error) within
// its deadline and the nsmgr keeps serving.
// NEG-011: concurrent Requests for the same connection are serialised (spec §5.4, §14 G.66): eight
// refreshes of an established connection sent at once (the returned path, so every hop sees its
// own id again) all succeed with the same path ids and addresses, and one connection remains.
// (Eight first Requests would not do: each first Request gets a fresh id at the nsmgr, §5.1, so
// they are eight connections by definition.)
#include <thread>

#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class CloseOfUnknownConnection : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-010";
    info.title = "Close of an unknown connection returns promptly; the nsmgr keeps serving";
    info.level = Level::kMust;
    info.area = Area::kNegative;
    info.features = {"mechanism.kernel"};
    info.spec = "§5.4, DESIGN bad input";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    RequestSpec spec = KernelRequest("icmp-responder", "never-requested");
    NsmCallOptions options;
    options.deadline = absl::Seconds(10);
    const absl::Time start = absl::Now();
    close_ = client().Close(MakeRequest(spec).connection(), options);
    took_ = absl::Now() - start;
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    context.log().Write(Cat("Close of an unknown connection: ", DescribeStatus(close_)));
    context.Check(Expect(close_.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
                             close_.error_code() != grpc::StatusCode::UNAVAILABLE,
                         Cat("a prompt answer to the Close (OK or a clear error), observed ",
                             DescribeStatus(close_), " after ", absl::FormatDuration(took_))));
    RequestSpec good = KernelRequest("icmp-responder", "good");
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto reply, RequestOk(good));
    return ExpectPing(ClientNetns(), FirstDstIp(reply));
  }

 private:
  grpc::Status close_;
  absl::Duration took_;
};
NSMCERT_REGISTER_CASE(CloseOfUnknownConnection);

class ConcurrentSameId : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-011";
    info.title = "Concurrent refreshes of one connection are serialised: one connection remains";
    info.level = Level::kMust;
    info.area = Area::kNegative;
    info.features = {"mechanism.kernel"};
    info.spec = "§5.4 (begin), §14 G.66";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    nse.cidr = "172.16.1.96/28";  // room for more than one pair, so a duplicate would show
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_ASSIGN_OR_RETURN(established_, RequestOk(spec_));
    // One client per thread: an NsmClient serves one thread at a time.
    std::vector<std::unique_ptr<NsmClient>> clients;
    for (int i = 0; i < kParallel; ++i) {
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto c, ConnectNsmgr(context, kNodeA));
      clients.push_back(std::move(c));
    }
    results_.resize(kParallel);
    std::vector<std::thread> threads;
    for (int i = 0; i < kParallel; ++i) {
      threads.emplace_back(
          [&, i] { results_[i] = clients[i]->Request(MakeRefresh(established_, spec_)); });
    }
    for (std::thread& t : threads) t.join();
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    std::set<std::string> paths;
    std::set<std::string> addresses;
    for (int i = 0; i < kParallel; ++i) {
      if (!results_[i].ok()) {
        context.Check(CaseFailure(Cat("concurrent Request ", i, " of ", kParallel,
                                      " of one connection: expected OK, observed ",
                                      DescribeStatus(results_[i].status))));
        continue;
      }
      std::string ids;
      for (const auto& segment : results_[i].reply.path().path_segments()) {
        Append(ids, segment.name(), "=", segment.id(), " ");
      }
      paths.insert(ids);
      addresses.insert(Cat(FirstSrcIp(results_[i].reply), "->", FirstDstIp(results_[i].reply)));
    }
    context.Check(
        ExpectEq("distinct paths (segment ids) among the concurrent replies", 1u, paths.size()));
    context.Check(ExpectEq(
        Cat("distinct address pairs among the concurrent replies [", Join(addresses, ", "), "]"),
        1u, addresses.size()));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto held, domain().MonitorSnapshot(kNodeA));
    context.Check(ExpectEq("connections the nsmgr holds", 1u, held.size()));
    return absl::OkStatus();
  }

 private:
  static constexpr int kParallel = 8;
  RequestSpec spec_;
  connection::Connection established_;
  std::vector<RequestResult> results_;
};
NSMCERT_REGISTER_CASE(ConcurrentSameId);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
