// The endpoint's registration against the reference registry's own chains, in process and on a
// fake clock: the registry really stamps expirations, expires entries and serves watches, and
// the endpoint keeps its entry alive, heals it after a registry restart and removes it on Stop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "reference/nse/registration.h"
#include "reference/nse/registry_client.h"
#include "reference/registry/registry_server.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::nse {
namespace {

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// Carries a client call to a server chain as the wire would: the server sees the client's
// outgoing metadata as incoming metadata and the client gets the server's response headers. The
// test can point it at another server (a restarted registry), break open watches (a lost
// connection) and make calls fail (an unreachable registry).
template <typename Types>
class InProcessHop final : public sdk::RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = sdk::RegistryNext<Types>;
  using Target = std::shared_ptr<sdk::RegistryElement<Types>>;

  explicit InProcessHop(Target target) : target_(std::move(target)) {}

  absl::StatusOr<Resource> Register(sdk::Context& ctx, Resource& resource,
                                    const Next& next) override {
    if (failing) return absl::UnavailableError("registry unreachable");
    sdk::Context server = ServerContext(ctx);
    Resource on_the_wire = resource;
    auto result = Chain(target())->Register(server, on_the_wire, Next());
    ctx.response_metadata() = server.response_headers();
    return result;
  }
  absl::Status Find(sdk::Context& ctx, const Query& query, sdk::FindSink<Response>& sink,
                    const Next& next) override {
    if (failing) return absl::UnavailableError("registry unreachable");
    auto server = std::make_shared<sdk::Context>(ServerContext(ctx));
    server->set_cancel_probe([&ctx] { return ctx.cancelled(); });
    {
      std::lock_guard lock(mu_);
      open_.push_back(server);
    }
    absl::Status status = Chain(target())->Find(*server, query, sink, Next());
    {
      std::lock_guard lock(mu_);
      std::erase(open_, server);
    }
    if (!ctx.cancelled() && status.ok()) return absl::UnavailableError("connection lost");
    return status;
  }
  absl::Status Unregister(sdk::Context& ctx, Resource& resource, const Next& next) override {
    if (failing) return absl::UnavailableError("registry unreachable");
    sdk::Context server = ServerContext(ctx);
    Resource on_the_wire = resource;
    return Chain(target())->Unregister(server, on_the_wire, Next());
  }

  void Retarget(Target target) {
    std::lock_guard lock(mu_);
    target_ = std::move(target);
  }
  void BreakWatches() {
    std::lock_guard lock(mu_);
    for (auto& server : open_) server->Cancel();
  }
  size_t open_watches() const {
    std::lock_guard lock(mu_);
    return open_.size();
  }
  std::atomic<bool> failing{false};

 private:
  static sdk::Context ServerContext(const sdk::Context& client) {
    sdk::Context server(client.clock());
    server.set_deadline(client.deadline());
    server.set_has_peer(true);
    server.mutable_incoming_metadata() = client.outgoing_metadata();
    return server;
  }
  Target target() const {
    std::lock_guard lock(mu_);
    return target_;
  }
  static sdk::RegistryChain<Types>* Chain(const Target& t) {
    return static_cast<sdk::RegistryChain<Types>*>(t.get());
  }

  mutable std::mutex mu_;
  Target target_;
  std::vector<std::shared_ptr<sdk::Context>> open_;
};

class RegistrationRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = MakeRegistry();
    ns_hop_ = std::make_shared<InProcessHop<sdk::NsRegistryTypes>>(registry_->ns_chain());
    nse_hop_ = std::make_shared<InProcessHop<sdk::NseRegistryTypes>>(registry_->nse_chain());
    auto signer = Signer("nse-1");
    ns_client_ = *sdk::NsRegistryChain::Make(
        {std::make_shared<sdk::RegistryCallPreparation<sdk::NsRegistryTypes>>(kNsmgr, signer),
         ns_hop_});
    nse_client_ = *sdk::NseRegistryChain::Make(
        {std::make_shared<sdk::RegistryCallPreparation<sdk::NseRegistryTypes>>(kNsmgr, signer),
         nse_hop_});
  }

  static constexpr char kNsmgr[] = "unix:///run/nsm/nsm.io.sock";

  std::shared_ptr<sdk::tools::TokenSigner> Signer(const std::string& name) {
    return std::make_shared<sdk::tools::Es256TokenSigner>(
        *sdk::tools::SpiffeId::Parse("spiffe://example.org/" + name),
        *sdk::tools::EcKey::Generate(), absl::Minutes(10), [this] { return clock_.Now(); });
  }
  std::unique_ptr<registryd::RegistryServer> MakeRegistry() {
    registryd::RegistryOptions options;
    options.token_signer = Signer("registry");
    options.clock = &clock_;
    return *registryd::RegistryServer::Create(std::move(options));
  }
  RegistrationOptions Options() {
    RegistrationOptions o;
    o.name = "nse-1";
    o.url = "unix:///run/nse-1/listen.on";
    o.services = {"icmp-responder"};
    o.labels = {{"app", "icmp"}};
    o.retry_interval = absl::Milliseconds(500);
    return o;
  }
  static std::optional<registry::NetworkServiceEndpoint> Stored(
      const registryd::RegistryServer& registry) {
    return registry.nse_store().Get("nse-1");
  }
  static bool HasService(const registryd::RegistryServer& registry) {
    auto ns = registry.ns_store().Get("icmp-responder");
    return ns.has_value() && ns->payload() == "ETHERNET";
  }
  absl::Time Expiration(const registry::NetworkServiceEndpoint& nse) {
    return *sdk::tools::FromProtoTimestamp(nse.expiration_time());
  }

  sdk::FakeClock clock_;
  std::unique_ptr<registryd::RegistryServer> registry_;
  std::shared_ptr<InProcessHop<sdk::NsRegistryTypes>> ns_hop_;
  std::shared_ptr<InProcessHop<sdk::NseRegistryTypes>> nse_hop_;
  std::shared_ptr<sdk::NsRegistryChain> ns_client_;
  std::shared_ptr<sdk::NseRegistryChain> nse_client_;
};

TEST_F(RegistrationRegistryTest, RegistersRefreshesAndUnregisters) {
  const absl::Time start = clock_.Now();
  Registration reg(Options(), ns_client_, nse_client_, clock_);
  ASSERT_TRUE(reg.Start().ok());
  EXPECT_TRUE(HasService(*registry_));
  auto stored = Stored(*registry_);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Expiration(*stored), start + absl::Minutes(1)) << "the registry's default expiration";
  EXPECT_EQ(stored->url(), "unix:///run/nse-1/listen.on");
  EXPECT_EQ(stored->network_service_labels().at("icmp-responder").labels().at("app"), "icmp");
  ASSERT_EQ(stored->path_ids_size(), 2);
  EXPECT_EQ(stored->path_ids(0), "spiffe://example.org/nse-1");
  const auto initial = stored->initial_registration_time();

  // Five minutes: refreshes at 2/3 keep the entry, each one extending its expiration.
  for (int i = 0; i < 30; ++i) {
    clock_.Advance(absl::Seconds(10));
    stored = Stored(*registry_);
    ASSERT_TRUE(stored.has_value()) << "expired after " << (i + 1) * 10 << "s";
    EXPECT_GT(Expiration(*stored), clock_.Now());
  }
  EXPECT_GE(reg.registrations(), 7);
  EXPECT_EQ(stored->initial_registration_time().seconds(), initial.seconds());

  ASSERT_TRUE(reg.Stop().ok());
  EXPECT_FALSE(Stored(*registry_).has_value());
  EXPECT_TRUE(HasService(*registry_)) << "network services stay for other endpoints";
}

TEST_F(RegistrationRegistryTest, SecondEndpointOfAServiceRegistersUnderItsOwnIdentity) {
  Registration first(Options(), ns_client_, nse_client_, clock_);
  ASSERT_TRUE(first.Start().ok());
  // Another endpoint process: its own identity, the same service.
  auto signer = Signer("nse-2");
  auto ns_client = *sdk::NsRegistryChain::Make(
      {std::make_shared<sdk::RegistryCallPreparation<sdk::NsRegistryTypes>>(kNsmgr, signer),
       ns_hop_});
  auto nse_client = *sdk::NseRegistryChain::Make(
      {std::make_shared<sdk::RegistryCallPreparation<sdk::NseRegistryTypes>>(kNsmgr, signer),
       nse_hop_});
  auto options = Options();
  options.name = "nse-2";
  options.url = "unix:///run/nse-2/listen.on";
  Registration second(options, ns_client, nse_client, clock_);
  ASSERT_TRUE(second.Start().ok());
  auto stored = registry_->nse_store().Get("nse-2");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->network_service_names(0), "icmp-responder");
  ASSERT_TRUE(second.Stop().ok());
  ASSERT_TRUE(first.Stop().ok());
  EXPECT_EQ(registry_->nse_store().size(), 0u);
}

TEST_F(RegistrationRegistryTest, HealsAfterARegistryRestart) {
  Registration reg(Options(), ns_client_, nse_client_, clock_);
  ASSERT_TRUE(reg.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return nse_hop_->open_watches() == 1; }));

  auto restarted = MakeRegistry();
  ns_hop_->Retarget(restarted->ns_chain());
  nse_hop_->Retarget(restarted->nse_chain());
  nse_hop_->BreakWatches();
  ASSERT_TRUE(WaitFor([&] { return clock_.PendingTimers() >= 3; }))
      << "refresh, the old entry's expiry and the pause before registering again";
  clock_.Advance(absl::Milliseconds(500));
  ASSERT_TRUE(WaitFor([&] { return Stored(*restarted).has_value(); }));
  EXPECT_TRUE(HasService(*restarted));
  EXPECT_EQ(reg.heals(), 1);
  ASSERT_TRUE(WaitFor([&] { return nse_hop_->open_watches() == 1; }));

  ASSERT_TRUE(reg.Stop().ok());
  EXPECT_FALSE(Stored(*restarted).has_value());
  // The old registry, never told, lets the entry expire.
  clock_.Advance(absl::Minutes(1));
  EXPECT_FALSE(Stored(*registry_).has_value());
}

TEST_F(RegistrationRegistryTest, RegistersAgainAfterTheEntryExpired) {
  Registration reg(Options(), ns_client_, nse_client_, clock_);
  ASSERT_TRUE(reg.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return nse_hop_->open_watches() == 1; }));
  // Refreshes fail (the registry is unreachable for calls, the watch stays open) until the
  // registry expires the entry; the watch reports the deletion.
  nse_hop_->failing = true;
  for (int i = 0; i < 60 && Stored(*registry_).has_value(); ++i) {
    clock_.Advance(absl::Seconds(1));
  }
  ASSERT_FALSE(Stored(*registry_).has_value());
  ASSERT_TRUE(WaitFor([&] { return reg.heals() == 1; }));
  nse_hop_->failing = false;
  ASSERT_TRUE(WaitFor([&] {
    clock_.Advance(absl::Milliseconds(500));
    return Stored(*registry_).has_value();
  }));
  ASSERT_TRUE(reg.Stop().ok());
  EXPECT_FALSE(Stored(*registry_).has_value());
}

}  // namespace
}  // namespace nsmcert::nse
