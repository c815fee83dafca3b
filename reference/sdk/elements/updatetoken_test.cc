#include "reference/sdk/elements/updatetoken.h"

#include <gtest/gtest.h>

#include "nsmcert/api/constants.h"
#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

std::shared_ptr<tools::TokenSigner> Signer(const std::string& id) {
  return std::make_shared<tools::Hs256TokenSigner>(*tools::SpiffeId::Parse(id), "secret",
                                                   absl::Minutes(10), [] { return kNow; });
}

// The request as the nsmgr's updatetoken sees it (after updatepath).
networkservice::NetworkServiceRequest AtHop1() {
  networkservice::NetworkServiceRequest request;
  auto* conn = request.mutable_connection();
  conn->set_id("m-1");
  conn->mutable_path()->set_index(1);
  auto* s0 = conn->mutable_path()->add_path_segments();
  s0->set_name("nsc");
  s0->set_id("nsc-1");
  s0->set_token("old-nsc-token");
  auto* s1 = conn->mutable_path()->add_path_segments();
  s1->set_name("nsmgr");
  s1->set_id("m-1");
  return request;
}

TEST(UpdateTokenServer, TakesThePeerTokenFromMetadataAndSignsItsOwn) {
  auto tail = std::make_shared<Recorder>();
  auto chain =
      MakeChain({std::make_shared<UpdateTokenServer>(Signer("spiffe://example.org/nsmgr")), tail});
  Context ctx;
  ctx.set_peer_identity("spiffe://example.org/nsc");
  ctx.mutable_incoming_metadata().emplace(std::string(api::metadata::kClientToken), "peer-jwt");
  ctx.mutable_incoming_metadata().emplace(std::string(api::metadata::kClientTokenExpires),
                                          tools::FormatRfc3339Nano(kNow + absl::Minutes(5)));
  auto request = AtHop1();
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  const auto requests = tail->requests();
  const auto& path = requests[0].connection().path();
  EXPECT_EQ(path.path_segments(0).token(), "peer-jwt");
  EXPECT_EQ(*tools::FromProtoTimestamp(path.path_segments(0).expires()), kNow + absl::Minutes(5));
  auto own = tools::ParseJwtUnverified(path.path_segments(1).token());
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->claims.subject, "spiffe://example.org/nsmgr");
  EXPECT_EQ(own->claims.audience, std::vector<std::string>{"spiffe://example.org/nsc"});
  EXPECT_EQ(*tools::FromProtoTimestamp(path.path_segments(1).expires()), kNow + absl::Minutes(10));
}

TEST(UpdateTokenServer, WithoutAPeerTokenTheCallersSegmentKeepsItsToken) {
  auto tail = std::make_shared<Recorder>();
  auto chain =
      MakeChain({std::make_shared<UpdateTokenServer>(Signer("spiffe://example.org/nsmgr")), tail});
  Context ctx;
  auto request = AtHop1();
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  const auto requests = tail->requests();
  const auto& path = requests[0].connection().path();
  EXPECT_EQ(path.path_segments(0).token(), "old-nsc-token");
  auto own = tools::ParseJwtUnverified(path.path_segments(1).token());
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->claims.audience.empty());  // no peer identity known
}

TEST(UpdateTokenServer, CloseUpdatesTokensToo) {
  auto tail = std::make_shared<Recorder>();
  auto chain =
      MakeChain({std::make_shared<UpdateTokenServer>(Signer("spiffe://example.org/nsmgr")), tail});
  Context ctx;
  ctx.mutable_incoming_metadata().emplace(std::string(api::metadata::kClientToken), "peer-jwt");
  ctx.mutable_incoming_metadata().emplace(std::string(api::metadata::kClientTokenExpires),
                                          tools::FormatRfc3339Nano(kNow));
  connection::Connection conn = AtHop1().connection();
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(tail->closes()[0].path().path_segments(0).token(), "peer-jwt");
}

TEST(UpdateTokenServer, AnIndexOutsideThePathFails) {
  auto chain = MakeChain({std::make_shared<UpdateTokenServer>(Signer("spiffe://example.org/x"))});
  Context ctx;
  auto request = AtHop1();
  request.mutable_connection()->mutable_path()->set_index(5);
  EXPECT_EQ(chain->Request(ctx, request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(UpdateTokenClient, PutsTheTokenForTheNextHopIntoOutgoingMetadata) {
  auto tail = std::make_shared<Recorder>();
  std::vector<std::string> tokens;
  tail->on_request = [&](Context& ctx, networkservice::NetworkServiceRequest&) {
    auto [b, e] = ctx.outgoing_metadata().equal_range(std::string(api::metadata::kClientToken));
    for (auto it = b; it != e; ++it) tokens.push_back(it->second);
    EXPECT_EQ(ctx.outgoing_metadata().count(std::string(api::metadata::kClientTokenExpires)), 1u);
    return absl::OkStatus();
  };
  auto chain =
      MakeChain({std::make_shared<UpdateTokenClient>(Signer("spiffe://example.org/nsc")), tail});
  Context ctx;
  ctx.values().Set(
      std::make_shared<NextHopIdentity>(NextHopIdentity{"spiffe://example.org/nsmgr"}));
  networkservice::NetworkServiceRequest request;
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  ASSERT_TRUE(chain->Request(ctx, request).ok());  // again on the same context: still one value
  ASSERT_EQ(tokens.size(), 2u);
  auto parsed = tools::ParseJwtUnverified(tokens[1]);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->claims.subject, "spiffe://example.org/nsc");
  EXPECT_EQ(parsed->claims.audience, std::vector<std::string>{"spiffe://example.org/nsmgr"});
}

}  // namespace
}  // namespace nsmcert::sdk
