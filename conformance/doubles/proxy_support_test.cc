#include "conformance/doubles/proxy_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace nsmcert::doubles {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<DoubleArgs> Parse(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "double");
  return ParseDoubleArgs(static_cast<int>(argv.size()), argv.data(), {"--listen", "--backend"},
                         {"--work-dir"}, {"wrong-vni", "unstable-id"});
}

TEST(ParseDoubleArgsTest, TakesOptionsAndFaults) {
  auto args = Parse({"--listen", "unix:///a.sock", "--fault", "unstable-id", "--backend", "/bin/x",
                     "--fault", "none", "--fault", "wrong-vni"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(args->values["--listen"], "unix:///a.sock");
  EXPECT_EQ(args->values["--backend"], "/bin/x");
  EXPECT_FALSE(args->values.contains("--work-dir"));
  EXPECT_THAT(args->faults, ElementsAre("unstable-id", "wrong-vni"));
}

TEST(ParseDoubleArgsTest, ErrorsNameTheOffendingArgument) {
  EXPECT_EQ(Parse({"--listen"}).status().message(), "--listen needs a value");
  EXPECT_EQ(Parse({"--port", "1"}).status().message(), "unknown option --port");
  EXPECT_EQ(Parse({"--fault", "slow"}).status().message(), "unknown fault \"slow\"");
  auto missing = Parse({"--listen", "unix:///a.sock"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("--listen and --backend are required"));
}

}  // namespace
}  // namespace nsmcert::doubles
