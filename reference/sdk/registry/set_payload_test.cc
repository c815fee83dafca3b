#include "reference/sdk/registry/set_payload.h"

#include <gtest/gtest.h>

namespace nsmcert::sdk::reg {
namespace {

TEST(SetPayload, EmptyPayloadBecomesIpOthersAreKept) {
  auto chain = *NsRegistryChain::Make({std::make_shared<SetPayload>()});
  Context ctx;
  registry::NetworkService ns;
  ns.set_name("icmp");
  EXPECT_EQ(chain->Register(ctx, ns)->payload(), "IP");
  registry::NetworkService ethernet;
  ethernet.set_name("l2");
  ethernet.set_payload("ETHERNET");
  EXPECT_EQ(chain->Register(ctx, ethernet)->payload(), "ETHERNET");
}

TEST(SetPayload, TheDefaultIsConfigurable) {
  auto chain = *NsRegistryChain::Make({std::make_shared<SetPayload>("ETHERNET")});
  Context ctx;
  registry::NetworkService ns;
  ns.set_name("l2");
  EXPECT_EQ(chain->Register(ctx, ns)->payload(), "ETHERNET");
}

}  // namespace
}  // namespace nsmcert::sdk::reg
