#include "reference/sdk/elements/filtermechanisms.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {
namespace {

std::vector<std::string> TypesSentTo(const std::string& url) {
  auto tail = std::make_shared<testing::Recorder>();
  auto chain = testing::MakeChain({std::make_shared<FilterMechanisms>(), tail});
  Context ctx;
  if (!url.empty()) ctx.values().Set(std::make_shared<ClientUrl>(ClientUrl{url}));
  networkservice::NetworkServiceRequest request;
  for (auto [cls, type] : std::vector<std::pair<std::string, std::string>>{
           {"LOCAL", "KERNEL"}, {"REMOTE", "VXLAN"}, {"LOCAL", "MEMIF"}, {"REMOTE", "WIREGUARD"}}) {
    auto* m = request.add_mechanism_preferences();
    m->set_cls(cls);
    m->set_type(type);
  }
  EXPECT_TRUE(chain->Request(ctx, request).ok());
  std::vector<std::string> types;
  const auto requests = tail->requests();
  for (const auto& m : requests[0].mechanism_preferences()) types.push_back(m.type());
  return types;
}

TEST(FilterMechanisms, KeepsLocalMechanismsTowardALocalNextHop) {
  EXPECT_EQ(TypesSentTo("unix:///var/lib/nsm/nse.sock"),
            (std::vector<std::string>{"KERNEL", "MEMIF"}));
  EXPECT_EQ(TypesSentTo("inode://4/12345"), (std::vector<std::string>{"KERNEL", "MEMIF"}));
}

TEST(FilterMechanisms, KeepsRemoteMechanismsTowardATcpNextHop) {
  EXPECT_EQ(TypesSentTo("tcp://10.0.0.2:5001"), (std::vector<std::string>{"VXLAN", "WIREGUARD"}));
}

TEST(FilterMechanisms, WithoutANextHopUrlNothingIsFiltered) {
  EXPECT_EQ(TypesSentTo("").size(), 4u);
}

}  // namespace
}  // namespace nsmcert::sdk
