#include "reference/sdk/tools/url.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

NsmUrl MustParse(std::string_view text) {
  auto url = ParseNsmUrl(text);
  EXPECT_TRUE(url.ok()) << text << ": " << url.status();
  return url.value_or(NsmUrl{});
}

TEST(SplitUrlTest, LikeGoNetUrl) {
  auto parts = SplitUrl("Kernel://svc@dc.example.com:80/a/nsm%2D1?color=red&x=1#frag");
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->scheme, "kernel");
  EXPECT_TRUE(parts->has_authority);
  EXPECT_EQ(parts->user, "svc");
  EXPECT_EQ(parts->host, "dc.example.com");
  EXPECT_EQ(parts->port, "80");
  EXPECT_EQ(parts->path, "/a/nsm-1");
  EXPECT_EQ(parts->raw_query, "color=red&x=1");
  EXPECT_EQ(parts->fragment, "frag");

  auto v6 = SplitUrl("tcp://[fd00::1]:5001");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "fd00::1");
  EXPECT_EQ(v6->port, "5001");

  auto opaque = SplitUrl("unix:relative/path");
  ASSERT_TRUE(opaque.ok());
  EXPECT_FALSE(opaque->has_authority);
  EXPECT_EQ(opaque->path, "relative/path");
}

TEST(SplitUrlTest, Rejects) {
  for (const char* text :
       {"", "noscheme", "://x", "1tcp://x", "tc p://x", "tcp://[fd00::1:5001", "tcp://[fd00::1]x",
        "tcp://host:port", "tcp://a:b:c", "unix:///bad%zzescape", "unix:///trailing%2"}) {
    auto parts = SplitUrl(text);
    EXPECT_FALSE(parts.ok()) << "accepted " << text;
    if (!parts.ok()) {
      EXPECT_THAT(parts.status().message(), HasSubstr(text));
    }
  }
}

TEST(ParseQueryTest, LikeGo) {
  auto query = ParseQuery("a=1&b=x+y&c&d=%2F&a=2&&e=");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_THAT(*query, ElementsAre(Pair("a", "1"), Pair("b", "x y"), Pair("c", ""), Pair("d", "/"),
                                  Pair("a", "2"), Pair("e", "")));
  EXPECT_TRUE(ParseQuery("")->empty());
  EXPECT_THAT(ParseQuery("a=1;b=2").status().message(), HasSubstr("semicolon"));
  EXPECT_THAT(ParseQuery("a=%zz").status().message(), HasSubstr("escape"));
}

TEST(ParseNsmUrlTest, Unix) {
  const NsmUrl url = MustParse("unix:///var/lib/networkservicemesh/nsm.io.sock");
  EXPECT_EQ(url.scheme, NsmUrlScheme::kUnix);
  EXPECT_EQ(url.path, "/var/lib/networkservicemesh/nsm.io.sock");
  EXPECT_EQ(*GrpcDialTarget(url), "unix:/var/lib/networkservicemesh/nsm.io.sock");
  EXPECT_EQ(*GrpcListenAddress(url), "unix:/var/lib/networkservicemesh/nsm.io.sock");
  EXPECT_EQ(FormatNsmUrl(url), "unix:///var/lib/networkservicemesh/nsm.io.sock");
  EXPECT_TRUE(IsLocalUrl(url));
  EXPECT_EQ(MustParse("unix:/tmp/x.sock").path, "/tmp/x.sock");
  EXPECT_EQ(MustParse("UNIX:///tmp/x.sock").path, "/tmp/x.sock");
  EXPECT_EQ(MustParse("unix:///run/nsm@node/a%20b.sock").path, "/run/nsm@node/a b.sock");
}

TEST(ParseNsmUrlTest, Tcp) {
  const NsmUrl url = MustParse("tcp://10.0.0.1:5001");
  EXPECT_EQ(url.scheme, NsmUrlScheme::kTcp);
  EXPECT_EQ(url.host, "10.0.0.1");
  EXPECT_EQ(url.port, 5001);
  EXPECT_EQ(*GrpcDialTarget(url), "10.0.0.1:5001");
  EXPECT_FALSE(IsLocalUrl(url));
  EXPECT_EQ(FormatNsmUrl(url), "tcp://10.0.0.1:5001");

  const NsmUrl any = MustParse("tcp://:5001");
  EXPECT_EQ(any.host, "");
  EXPECT_EQ(GrpcDialTarget(any).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*GrpcListenAddress(any), "0.0.0.0:5001");

  const NsmUrl v6 = MustParse("tcp://[fd00::1]:5002");
  EXPECT_EQ(v6.host, "fd00::1");
  EXPECT_EQ(*GrpcDialTarget(v6), "[fd00::1]:5002");
  EXPECT_EQ(FormatNsmUrl(v6), "tcp://[fd00::1]:5002");

  EXPECT_EQ(MustParse("tcp://localhost:0/").port, 0);
  EXPECT_EQ(*GrpcDialTarget(MustParse("tcp://registry:5002")), "registry:5002");
}

TEST(ParseNsmUrlTest, Inode) {
  const NsmUrl url = MustParse("inode://4/4026531840");
  EXPECT_EQ(url.scheme, NsmUrlScheme::kInode);
  EXPECT_EQ(url.device, 4u);
  EXPECT_EQ(url.inode, 4026531840u);
  EXPECT_TRUE(IsLocalUrl(url));
  EXPECT_EQ(FormatNsmUrl(url), "inode://4/4026531840");
  EXPECT_EQ(GrpcDialTarget(url).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(GrpcListenAddress(url).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ParseNsmUrlTest, RejectsWithReasons) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"http://x:80", "unsupported scheme"},
           {"unix://host/path", "no host"},
           {"unix:relative.sock", "absolute"},
           {"unix://", "absolute"},
           {"tcp://10.0.0.1", "port"},
           {"tcp://10.0.0.1:70000", "range"},
           {"tcp://10.0.0.1:5001/path", "no path"},
           {"tcp:10.0.0.1:5001", "//host:port"},
           {"tcp://user@10.0.0.1:5001", "user info"},
           {"tcp://@10.0.0.1:5001", "user info"},
           {"tcp://10.0.0.1:5001?x=1", "query"},
           {"unix:///x#y", "fragment"},
           {"inode://4", "inode://<device>/<inode>"},
           {"inode://x/5", "inode://<device>/<inode>"},
           {"inode://4/-5", "inode://<device>/<inode>"},
           {"inode://4:1/5", "inode://<device>/<inode>"},
           {"10.0.0.1:5001", "scheme"},
       }) {
    auto url = ParseNsmUrl(c.text);
    EXPECT_FALSE(url.ok()) << "accepted " << c.text;
    if (!url.ok()) {
      EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(url.status().message(), HasSubstr(c.reason)) << c.text;
    }
  }
}

TEST(IsLocalUrlTextTest, BySchemeOnly) {
  EXPECT_TRUE(IsLocalUrlText("unix:///proc/123/fd/7"));
  EXPECT_TRUE(IsLocalUrlText("inode://4/5"));
  EXPECT_TRUE(IsLocalUrlText("Unix:///x"));
  EXPECT_FALSE(IsLocalUrlText("tcp://10.0.0.1:5001"));
  EXPECT_FALSE(IsLocalUrlText("unix"));
  EXPECT_FALSE(IsLocalUrlText(""));
}

}  // namespace
}  // namespace nsmcert::sdk::tools
