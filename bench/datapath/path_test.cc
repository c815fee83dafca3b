// Path catalogue and external path specs; building paths needs root and is covered by
// datapath_smoke_test.
#include "bench/datapath/path.h"

#include "gtest/gtest.h"

namespace nsmcert::bench {
namespace {

TEST(PathCatalogTest, EachForwarderShapeHasItsBaseline) {
  std::vector<PathKind> paths = BuiltinPaths();
  ASSERT_EQ(paths.size(), 4u);
  for (const PathKind& kind : paths) {
    EXPECT_TRUE(kind.make != nullptr) << kind.name;
    if (kind.baseline.empty()) continue;
    absl::StatusOr<PathKind> baseline = FindBuiltinPath(kind.baseline);
    ASSERT_TRUE(baseline.ok()) << kind.name;
    EXPECT_TRUE(baseline->baseline.empty()) << "a baseline is compared with nothing";
  }
  EXPECT_EQ(FindBuiltinPath("veth-xconnect")->baseline, "plain-veth");
  EXPECT_EQ(FindBuiltinPath("vxlan-xconnect")->baseline, "plain-vxlan");
}

TEST(PathCatalogTest, UnknownNameListsTheKnownOnes) {
  absl::StatusOr<PathKind> kind = FindBuiltinPath("vpp");
  EXPECT_EQ(kind.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(kind.status().message().find("plain-veth"), absl::string_view::npos);
}

TEST(ExternalPathTest, ParsesACompleteSpec) {
  absl::StatusOr<PathKind> kind = ParseExternalPath(
      "name=fwd-kernel,client-ns=nsc-1,client-ip=172.16.0.2,server-ns=nse-1,"
      "server-ip=172.16.0.3,baseline=plain-veth");
  ASSERT_TRUE(kind.ok()) << kind.status();
  EXPECT_EQ(kind->name, "fwd-kernel");
  EXPECT_EQ(kind->baseline, "plain-veth");
  ASSERT_TRUE(kind->make != nullptr);
  std::unique_ptr<PathUnderTest> path = kind->make();
  EXPECT_TRUE(path->client().ip.empty()) << "no endpoints before Setup";
}

TEST(ExternalPathTest, NamesWhatIsWrong) {
  auto message = [](std::string_view spec) {
    return std::string(ParseExternalPath(spec).status().message());
  };
  EXPECT_NE(message("name=x,client-ns=a,client-ip=10.0.0.1,server-ns=b").find("server-ip"),
            std::string::npos);
  EXPECT_NE(message("name=x,colour=blue").find("unknown key \"colour\""), std::string::npos);
  EXPECT_NE(
      message("name=x,client-ns=a,client-ip=nope,server-ns=b,server-ip=10.0.0.2").find("client-ip"),
      std::string::npos);
  EXPECT_NE(message("name=x,client-ns=a/b,client-ip=10.0.0.1,server-ns=b,server-ip=10.0.0.2")
                .find("client-ns"),
            std::string::npos);
  EXPECT_NE(message("justtext").find("key=value"), std::string::npos);
}

}  // namespace
}  // namespace nsmcert::bench
