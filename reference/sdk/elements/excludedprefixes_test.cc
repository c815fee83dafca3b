#include "reference/sdk/elements/excludedprefixes.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nsmcert-excl-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Replaces the file atomically, as a ConfigMap update does.
void WriteFile(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  std::filesystem::rename(tmp, path);
}

std::vector<std::string> ExcludedSent(NetworkServiceChain& chain, Recorder& tail,
                                      networkservice::NetworkServiceRequest request = {}) {
  Context ctx;
  EXPECT_TRUE(chain.Request(ctx, request).ok());
  auto requests = tail.requests();
  const auto& got = requests.back().connection().context().ip_context().excluded_prefixes();
  return {got.begin(), got.end()};
}

TEST(ExcludedPrefixesServer, AddsThePrefixesOfTheFileAndFollowsItsChanges) {
  TempDir dir;
  const std::string file = dir.file("excluded_prefixes.yaml");
  WriteFile(file, "prefixes:\n  - 10.96.0.0/12\n  - 172.16.1.7/24\n");
  FakeClock clock;
  auto server = std::make_shared<ExcludedPrefixesServer>(
      clock, ExcludedPrefixesServerOptions{file, absl::Seconds(1)});
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({server, tail});

  networkservice::NetworkServiceRequest request;
  *request.mutable_connection()->mutable_context()->mutable_ip_context()->add_excluded_prefixes() =
      "10.96.0.0/12";
  EXPECT_EQ(ExcludedSent(*chain, *tail, request),
            (std::vector<std::string>{"10.96.0.0/12", "172.16.1.0/24"}));

  WriteFile(file, "prefixes: [192.168.0.0/16]\n");
  EXPECT_EQ(server->prefixes().size(), 2u);  // not before the next poll
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(ExcludedSent(*chain, *tail), (std::vector<std::string>{"192.168.0.0/16"}));

  std::filesystem::remove(file);
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(ExcludedSent(*chain, *tail).empty());
}

TEST(ExcludedPrefixesServer, ABrokenFileKeepsThePreviousPrefixesAndSaysWhy) {
  TempDir dir;
  const std::string file = dir.file("excluded_prefixes.yaml");
  WriteFile(file, "prefixes: [10.0.0.0/8]\n");
  FakeClock clock;
  ExcludedPrefixesServer server(clock, {file, absl::Seconds(1)});
  EXPECT_TRUE(server.load_status().ok());

  WriteFile(file, "prefixes:\n  - 10.0.0.0/8\n  - not-a-prefix\n");
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(server.prefixes(), std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_EQ(server.load_status().code(), absl::StatusCode::kInvalidArgument);
  std::string message(server.load_status().message());
  EXPECT_NE(message.find(":3:"), std::string::npos) << message;  // names the line

  WriteFile(file, "prefixes: [unterminated\n");
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(server.prefixes(), std::vector<std::string>{"10.0.0.0/8"});
  EXPECT_FALSE(server.load_status().ok());

  WriteFile(file, "prefixes: []\n");
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(server.prefixes().empty());
  EXPECT_TRUE(server.load_status().ok());
}

TEST(ExcludedPrefixesServer, AMissingFileMeansNoPrefixes) {
  TempDir dir;
  FakeClock clock;
  ExcludedPrefixesServer server(clock, {dir.file("absent.yaml"), absl::Seconds(1)});
  EXPECT_TRUE(server.prefixes().empty());
  EXPECT_TRUE(server.load_status().ok());
  WriteFile(dir.file("absent.yaml"), "prefixes: [fd00::/8]\n");
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(server.prefixes(), std::vector<std::string>{"fd00::/8"});
}

// An endpoint that hands out the addresses it is told to.
class Ipam : public NetworkServiceElement {
 public:
  std::string src = "172.16.1.1/32", dst = "172.16.1.0/32";
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    auto* ip = request.mutable_connection()->mutable_context()->mutable_ip_context();
    ip->clear_src_ip_addrs();
    ip->clear_dst_ip_addrs();
    ip->add_src_ip_addrs(src);
    ip->add_dst_ip_addrs(dst);
    return next.Request(ctx, request);
  }
};

TEST(ExcludedPrefixesClient, ExcludesAddressesOfOtherConnectionsAndRejectsOverlaps) {
  auto client = std::make_shared<ExcludedPrefixesClient>();
  auto tail = std::make_shared<Recorder>();
  auto ipam = std::make_shared<Ipam>();
  auto chain = MakeChain({client, tail, ipam});
  Context ctx;

  networkservice::NetworkServiceRequest first;
  first.mutable_connection()->set_id("svc-1");
  auto conn1 = chain->Request(ctx, first);
  ASSERT_TRUE(conn1.ok());
  EXPECT_EQ(client->excluded(), (std::set<std::string>{"172.16.1.0/32", "172.16.1.1/32"}));

  // A refresh of the first connection does not exclude its own addresses.
  networkservice::NetworkServiceRequest refresh;
  *refresh.mutable_connection() = *conn1;
  ASSERT_TRUE(chain->Request(ctx, refresh).ok());
  EXPECT_TRUE(
      tail->requests().back().connection().context().ip_context().excluded_prefixes().empty());

  // A second service: the first one's addresses are excluded; an endpoint that ignores that is
  // refused and closed.
  networkservice::NetworkServiceRequest second;
  second.mutable_connection()->set_id("svc-2");
  auto refused = chain->Request(ctx, second);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tail->close_count(), 1u);
  EXPECT_EQ(tail->requests().back().connection().context().ip_context().excluded_prefixes_size(),
            2);
  // The caller's request is left as it was.
  EXPECT_TRUE(second.connection().context().ip_context().excluded_prefixes().empty());

  ipam->src = "172.16.2.1/32";
  ipam->dst = "172.16.2.0/32";
  networkservice::NetworkServiceRequest third;
  third.mutable_connection()->set_id("svc-2");
  auto conn2 = chain->Request(ctx, third);
  ASSERT_TRUE(conn2.ok()) << conn2.status();
  EXPECT_EQ(client->excluded().size(), 4u);

  ASSERT_TRUE(chain->Close(ctx, *conn1).ok());
  EXPECT_EQ(client->excluded(), (std::set<std::string>{"172.16.2.0/32", "172.16.2.1/32"}));
}

}  // namespace
}  // namespace nsmcert::sdk
