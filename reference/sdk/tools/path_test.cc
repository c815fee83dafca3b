#include "reference/sdk/tools/path.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/uuid.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

// Deterministic ids: "id-1", "id-2", ...
class Ids {
 public:
  IdGenerator generator() {
    return [this] { return "id-" + std::to_string(++next_); };
  }

 private:
  int next_ = 0;
};

connection::PathSegment* AddSegment(connection::Connection& c, std::string name, std::string id) {
  connection::PathSegment* s = c.mutable_path()->add_path_segments();
  s->set_name(std::move(name));
  s->set_id(std::move(id));
  return s;
}

std::vector<std::string> Names(const connection::Connection& c) {
  std::vector<std::string> names;
  for (const auto& s : c.path().path_segments()) names.push_back(s.name());
  return names;
}

TEST(UpdatePathTest, FirstHopStartsThePathWithGivenId) {
  connection::Connection c;
  c.set_id("nsc-0");
  auto index = UpdatePath(c, "nsc");
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(*index, 0u);
  EXPECT_EQ(c.path().index(), 0u);
  ASSERT_EQ(c.path().path_segments_size(), 1);
  EXPECT_EQ(c.path().path_segments(0).name(), "nsc");
  EXPECT_EQ(c.path().path_segments(0).id(), "nsc-0");
  EXPECT_EQ(c.id(), "nsc-0");
}

TEST(UpdatePathTest, FirstHopGeneratesUuidWhenIdEmpty) {
  connection::Connection c;
  ASSERT_TRUE(UpdatePath(c, "nsc").ok());
  EXPECT_TRUE(IsUuidText(c.id())) << c.id();
  EXPECT_EQ(c.path().path_segments(0).id(), c.id());
}

// NSC -> nsmgr -> forwarder -> NSE: each server hop appends its segment, indexes move, each hop
// gets its own connection id, and restoring gives the caller back its view.
TEST(UpdatePathTest, LocalChainOfFourHops) {
  Ids ids;
  connection::Connection c;
  c.set_id("nsc-0");
  ASSERT_EQ(*UpdatePath(c, "nsc", ids.generator()), 0u);

  const auto nsmgr_caller = UpdatePath(c, "nsmgr", ids.generator());
  ASSERT_TRUE(nsmgr_caller.ok()) << nsmgr_caller.status();
  EXPECT_EQ(*nsmgr_caller, 0u);
  EXPECT_EQ(c.path().index(), 1u);
  EXPECT_EQ(c.id(), "id-1");

  // The nsmgr's own client runs updatepath with the same name: nothing moves.
  const auto nsmgr_client = UpdatePath(c, "nsmgr", ids.generator());
  ASSERT_TRUE(nsmgr_client.ok());
  EXPECT_EQ(*nsmgr_client, 1u);
  EXPECT_EQ(c.path().index(), 1u);
  EXPECT_EQ(c.id(), "id-1");

  ASSERT_EQ(*UpdatePath(c, "forwarder", ids.generator()), 1u);
  ASSERT_EQ(*UpdatePath(c, "nse", ids.generator()), 2u);
  EXPECT_EQ(c.path().index(), 3u);
  EXPECT_EQ(c.id(), "id-3");
  EXPECT_THAT(Names(c), ::testing::ElementsAre("nsc", "nsmgr", "forwarder", "nse"));

  // Unwinding: each hop restores its caller's index and id.
  ASSERT_TRUE(RestorePath(c, 2).ok());
  EXPECT_EQ(c.path().index(), 2u);
  EXPECT_EQ(c.id(), "id-2");
  ASSERT_TRUE(RestorePath(c, 1).ok());
  ASSERT_TRUE(RestorePath(c, 0).ok());
  EXPECT_EQ(c.path().index(), 0u);
  EXPECT_EQ(c.id(), "nsc-0");
  EXPECT_EQ(c.path().path_segments_size(), 4);
}

// A refresh carries the whole returned path: every hop finds its own segment and keeps its id.
TEST(UpdatePathTest, RefreshKeepsIds) {
  connection::Connection c;
  c.set_id("nsc-0");
  AddSegment(c, "nsc", "nsc-0");
  AddSegment(c, "nsmgr", "a");
  AddSegment(c, "forwarder", "b");
  AddSegment(c, "nse", "c");
  c.mutable_path()->set_index(0);

  ASSERT_EQ(*UpdatePath(c, "nsmgr"), 0u);
  EXPECT_EQ(c.id(), "a");
  ASSERT_EQ(*UpdatePath(c, "forwarder"), 1u);
  EXPECT_EQ(c.id(), "b");
  ASSERT_EQ(*UpdatePath(c, "nse"), 2u);
  EXPECT_EQ(c.id(), "c");
  EXPECT_EQ(c.path().path_segments_size(), 4);
}

// After a forwarder restart under another name, its position is renamed and gets a new id; the
// NSE keeps its segment id (same name), which is what keeps "unique requests" at one.
TEST(UpdatePathTest, RenamesAForeignNextSegment) {
  Ids ids;
  connection::Connection c;
  c.set_id("a");
  AddSegment(c, "nsc", "nsc-0");
  AddSegment(c, "nsmgr", "a");
  AddSegment(c, "forwarder-old", "b");
  AddSegment(c, "nse", "c");
  c.mutable_path()->set_index(1);

  ASSERT_EQ(*UpdatePath(c, "forwarder-new", ids.generator()), 1u);
  EXPECT_EQ(c.path().path_segments(2).name(), "forwarder-new");
  EXPECT_EQ(c.path().path_segments(2).id(), "id-1");
  EXPECT_EQ(c.id(), "id-1");
  ASSERT_EQ(*UpdatePath(c, "nse", ids.generator()), 2u);
  EXPECT_EQ(c.id(), "c");
}

TEST(UpdatePathTest, RejectsIdMismatch) {
  connection::Connection c;
  c.set_id("wrong");
  AddSegment(c, "nsc", "nsc-0");
  auto index = UpdatePath(c, "nsmgr");
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(index.status().message(), HasSubstr("differs from connection id"));
}

TEST(UpdatePathTest, RejectsIndexBeyondPath) {
  connection::Connection c;
  c.set_id("nsc-0");
  AddSegment(c, "nsc", "nsc-0");
  c.mutable_path()->set_index(1);
  auto index = UpdatePath(c, "nsmgr");
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(index.status().message(), HasSubstr("exceeds"));

  c.mutable_path()->set_index(7);
  EXPECT_FALSE(UpdatePath(c, "nsmgr").ok());
}

// Index == len is tolerated when the name matches nothing (index+1 > len errors only beyond that),
// matching upstream: with index 0 and one segment the next hop appends.
TEST(UpdatePathTest, IndexAtLastSegmentAppends) {
  connection::Connection c;
  c.set_id("nsc-0");
  AddSegment(c, "nsc", "nsc-0");
  ASSERT_TRUE(UpdatePath(c, "nsmgr").ok());
  EXPECT_EQ(c.path().path_segments_size(), 2);
}

TEST(UpdatePathTest, CloseUsesTheSameRules) {
  // Close arrives with the caller's full path; each hop finds its own id.
  connection::Connection c;
  c.set_id("nsc-0");
  AddSegment(c, "nsc", "nsc-0");
  AddSegment(c, "nsmgr", "a");
  ASSERT_TRUE(UpdatePath(c, "nsmgr").ok());
  EXPECT_EQ(c.id(), "a");
}

TEST(RestorePathTest, RejectsTooShortPath) {
  connection::Connection c;
  AddSegment(c, "nsc", "nsc-0");
  auto status = RestorePath(c, 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
}

TEST(PrevPathSegmentTest, Bounds) {
  connection::Connection c;
  EXPECT_EQ(PrevPathSegment(c), nullptr);
  AddSegment(c, "nsc", "nsc-0");
  AddSegment(c, "nsmgr", "a");
  EXPECT_EQ(PrevPathSegment(c), nullptr);  // index 0
  c.mutable_path()->set_index(1);
  ASSERT_NE(PrevPathSegment(c), nullptr);
  EXPECT_EQ(PrevPathSegment(c)->name(), "nsc");
  c.mutable_path()->set_index(5);
  EXPECT_EQ(PrevPathSegment(c), nullptr);
  const connection::Connection& const_c = c;
  EXPECT_EQ(PrevPathSegment(const_c), nullptr);
}

TEST(PeerTokenFromMetadataTest, ExactlyOneValueEach) {
  auto token = PeerTokenFromMetadata({"jwt"}, {"2026-11-26T14:03:05.123456789Z"});
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->value, "jwt");
  EXPECT_EQ(token->expires, *ParseRfc3339Nano("2026-11-26T14:03:05.123456789Z"));

  EXPECT_THAT(PeerTokenFromMetadata({}, {"2026-11-26T14:03:05Z"}).status().message(),
              HasSubstr("0 values"));
  EXPECT_THAT(PeerTokenFromMetadata({"a", "b"}, {"2026-11-26T14:03:05Z"}).status().message(),
              HasSubstr("2 values"));
  EXPECT_THAT(PeerTokenFromMetadata({"a"}, {}).status().message(),
              HasSubstr("nsm-client-token-expires"));
  EXPECT_THAT(PeerTokenFromMetadata({"a"}, {"tomorrow"}).status().message(),
              HasSubstr("nsm-client-token-expires"));
}

TEST(UpdateTokenServerTest, OverwritesCallerSegmentAndSetsOwn) {
  connection::Connection c;
  c.set_id("a");
  AddSegment(c, "nsc", "nsc-0")->set_token("stale");
  AddSegment(c, "nsmgr", "a");
  c.mutable_path()->set_index(1);

  const Token peer{"peer-jwt", kNow + absl::Minutes(10)};
  const Token own{"own-jwt", kNow + absl::Minutes(9) + absl::Nanoseconds(5)};
  ASSERT_TRUE(UpdateTokenServer(c, &peer, own).ok());
  EXPECT_EQ(c.path().path_segments(0).token(), "peer-jwt");
  EXPECT_EQ(*FromProtoTimestamp(c.path().path_segments(0).expires()), peer.expires);
  EXPECT_EQ(c.path().path_segments(1).token(), "own-jwt");
  EXPECT_EQ(*FromProtoTimestamp(c.path().path_segments(1).expires()), own.expires);
}

TEST(UpdateTokenServerTest, WithoutPeerTokenKeepsCallerSegment) {
  connection::Connection c;
  AddSegment(c, "nsc", "nsc-0")->set_token("kept");
  AddSegment(c, "nsmgr", "a");
  c.mutable_path()->set_index(1);
  ASSERT_TRUE(UpdateTokenServer(c, nullptr, {"own", kNow}).ok());
  EXPECT_EQ(c.path().path_segments(0).token(), "kept");
  EXPECT_EQ(c.path().path_segments(1).token(), "own");
}

TEST(UpdateTokenServerTest, FirstSegmentHasNoPrevious) {
  connection::Connection c;
  AddSegment(c, "nse", "x");
  const Token peer{"peer", kNow};
  ASSERT_TRUE(UpdateTokenServer(c, &peer, {"own", kNow}).ok());
  EXPECT_EQ(c.path().path_segments(0).token(), "own");
}

TEST(UpdateTokenServerTest, Errors) {
  connection::Connection c;
  EXPECT_EQ(UpdateTokenServer(c, nullptr, {"own", kNow}).code(),
            absl::StatusCode::kInvalidArgument);
  AddSegment(c, "nse", "x");
  EXPECT_EQ(UpdateTokenServer(c, nullptr, {"own", absl::InfiniteFuture()}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TrimPathTest, DropsSegmentsAfterIndex) {
  connection::Connection c;
  AddSegment(c, "nsc", "0");
  AddSegment(c, "nsmgr", "1");
  AddSegment(c, "forwarder", "2");
  AddSegment(c, "old-nse", "3");
  AddSegment(c, "stale", "4");
  c.mutable_path()->set_index(3);
  TrimPath(c);
  EXPECT_THAT(Names(c), ::testing::ElementsAre("nsc", "nsmgr", "forwarder", "old-nse"));
  c.mutable_path()->set_index(9);
  TrimPath(c);
  EXPECT_EQ(c.path().path_segments_size(), 4);
}

TEST(RefreshScaleTest, MatchesUpstreamFormula) {
  EXPECT_DOUBLE_EQ(RefreshScale(0, 0), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(RefreshScale(0, 1), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(RefreshScale(0, 4), 0.2);
  EXPECT_DOUBLE_EQ(RefreshScale(1, 4), 0.25);
  EXPECT_DOUBLE_EQ(RefreshScale(3, 6), 0.3);
}

void SetExpires(connection::PathSegment* s, absl::Time t) {
  *s->mutable_expires() = *ToProtoTimestamp(t);
}

TEST(RefreshAfterTest, NscRefreshesAtOneFifthOfEarliestExpiry) {
  connection::Connection c;
  SetExpires(AddSegment(c, "nsc", "0"), kNow + absl::Minutes(10));
  SetExpires(AddSegment(c, "nsmgr", "1"), kNow + absl::Minutes(10));
  SetExpires(AddSegment(c, "forwarder", "2"), kNow + absl::Minutes(5));
  SetExpires(AddSegment(c, "nse", "3"), kNow + absl::Minutes(10));
  EXPECT_EQ(RefreshAfter(c, kNow), absl::Minutes(1));  // 0.2 * 5m
  c.mutable_path()->set_index(2);
  EXPECT_EQ(RefreshAfter(c, kNow), absl::Seconds(90));  // 0.3 * 5m
}

TEST(RefreshAfterTest, SingleSegmentUsesOneThird) {
  connection::Connection c;
  SetExpires(AddSegment(c, "nse", "0"), kNow + absl::Minutes(3));
  EXPECT_EQ(RefreshAfter(c, kNow), absl::Minutes(1));
}

TEST(RefreshAfterTest, ExpiredMissingOrEmptyMeansNow) {
  connection::Connection c;
  EXPECT_EQ(RefreshAfter(c, kNow), absl::Nanoseconds(1));
  SetExpires(AddSegment(c, "nsc", "0"), kNow + absl::Minutes(10));
  AddSegment(c, "nsmgr", "1");  // no expires: reads as the epoch
  EXPECT_EQ(RefreshAfter(c, kNow), absl::Nanoseconds(1));
  SetExpires(c.mutable_path()->mutable_path_segments(1), kNow);
  EXPECT_EQ(RefreshAfter(c, kNow), absl::Nanoseconds(1));
}

TEST(TimeoutAfterTest, PreviousSegmentExpiryMinusDeadline) {
  connection::Connection c;
  SetExpires(AddSegment(c, "nsc", "0"), kNow + absl::Minutes(10));
  AddSegment(c, "nsmgr", "1");
  c.mutable_path()->set_index(1);
  EXPECT_EQ(*TimeoutAfter(c, kNow), absl::Minutes(10));
  EXPECT_EQ(*TimeoutAfter(c, kNow, absl::Seconds(15)), absl::Minutes(10) - absl::Seconds(15));
  EXPECT_EQ(*TimeoutAfter(c, kNow + absl::Hours(1)), absl::ZeroDuration());
}

TEST(TimeoutAfterTest, NeedsPreviousSegmentWithExpiry) {
  connection::Connection c;
  AddSegment(c, "nsc", "0");
  EXPECT_EQ(TimeoutAfter(c, kNow).status().code(), absl::StatusCode::kFailedPrecondition);
  AddSegment(c, "nsmgr", "1");
  c.mutable_path()->set_index(1);
  EXPECT_THAT(TimeoutAfter(c, kNow).status().message(), HasSubstr("no expiry"));
}

}  // namespace
}  // namespace nsmcert::sdk::tools
