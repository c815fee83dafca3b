#include "reference/sdk/tools/match.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

LabelMap Labels(std::initializer_list<std::pair<const std::string, std::string>> entries) {
  LabelMap map;
  for (const auto& [k, v] : entries) map[k] = v;
  return map;
}

registry::NetworkServiceEndpoint Nse(std::string name, std::string service, LabelMap labels) {
  registry::NetworkServiceEndpoint nse;
  nse.set_name(std::move(name));
  nse.add_network_service_names(service);
  *(*nse.mutable_network_service_labels())[service].mutable_labels() = std::move(labels);
  return nse;
}

std::vector<std::string> Names(const std::vector<registry::NetworkServiceEndpoint>& nses) {
  std::vector<std::string> names;
  for (const auto& nse : nses) names.push_back(nse.name());
  return names;
}

registry::Match* AddMatch(registry::NetworkService& ns, LabelMap source = {}) {
  registry::Match* match = ns.add_matches();
  *match->mutable_source_selector() = std::move(source);
  return match;
}

void AddRoute(registry::Match* match, LabelMap selector) {
  *match->add_routes()->mutable_destination_selector() = std::move(selector);
}

TEST(RenderLabelTemplateTest, Substitution) {
  const LabelMap data = Labels({{"nodeName", "node-1"}, {"app", "web"}, {"a-b", "dash"}});
  EXPECT_THAT(RenderLabelTemplate("{{.nodeName}}", data), Optional(std::string("node-1")));
  EXPECT_THAT(RenderLabelTemplate("{{ .nodeName }}", data), Optional(std::string("node-1")));
  EXPECT_THAT(RenderLabelTemplate("x-{{.app}}-{{ .nodeName}}-{{.app }}", data),
              Optional(std::string("x-web-node-1-web")));
  EXPECT_THAT(RenderLabelTemplate("plain", data), Optional(std::string("plain")));
  EXPECT_THAT(RenderLabelTemplate("a }} b", data), Optional(std::string("a }} b")));
  EXPECT_THAT(RenderLabelTemplate("", data), Optional(std::string("")));
  EXPECT_THAT(RenderLabelTemplate("{{index . \"a-b\"}}", data), Optional(std::string("dash")));
  EXPECT_THAT(RenderLabelTemplate("{{.}}", data),
              Optional(std::string("map[a-b:dash app:web nodeName:node-1]")));
}

TEST(RenderLabelTemplateTest, MissingKeyRendersLikeGo) {
  EXPECT_THAT(RenderLabelTemplate("{{.podName}}", LabelMap()), Optional(std::string("<no value>")));
}

TEST(RenderLabelTemplateTest, TrimMarkersAndComments) {
  const LabelMap data = Labels({{"x", "X"}});
  EXPECT_THAT(RenderLabelTemplate("a  {{- .x -}}  b", data), Optional(std::string("aXb")));
  EXPECT_THAT(RenderLabelTemplate("a {{- .x}} b", data), Optional(std::string("aX b")));
  EXPECT_THAT(RenderLabelTemplate("a{{/* note */}}b", data), Optional(std::string("ab")));
  EXPECT_THAT(RenderLabelTemplate("a {{- /* note */ -}} b", data), Optional(std::string("ab")));
}

TEST(RenderLabelTemplateTest, UnsupportedOrBrokenTemplatesDoNotRender) {
  const LabelMap data = Labels({{"a", "A"}});
  for (const char* text :
       {"{{.a", "{{", "{{}}", "{{.a.b}}", "{{.a | printf \"%s\"}}", "{{printf \"x\"}}", "{{$x}}",
        "{{.1a}}", "{{ /* c */ }}", "{{index . a}}", "{{index .a \"k\"}}", "{{.node-name}}"}) {
    EXPECT_EQ(RenderLabelTemplate(text, data), std::nullopt) << text;
  }
}

TEST(IsLabelSubsetTest, LiteralTemplateAndMissing) {
  const LabelMap nse = Labels({{"app", "icmp"}, {"nodeName", "node-1"}});
  const LabelMap request = Labels({{"nodeName", "node-1"}});
  EXPECT_TRUE(IsLabelSubset(nse, Labels({{"app", "icmp"}}), request));
  EXPECT_TRUE(IsLabelSubset(nse, Labels({{"nodeName", "{{.nodeName}}"}}), request));
  EXPECT_FALSE(IsLabelSubset(nse, Labels({{"nodeName", "{{.nodeName}}"}}), LabelMap()));
  EXPECT_FALSE(IsLabelSubset(nse, Labels({{"app", "other"}}), request));
  EXPECT_TRUE(IsLabelSubset(nse, LabelMap(), request));
  // A selector asking for an empty value matches a missing key, as in Go.
  EXPECT_TRUE(IsLabelSubset(nse, Labels({{"missing", ""}}), request));
  // Fails fast when the selector has more keys than the labels.
  EXPECT_FALSE(IsLabelSubset(Labels({{"a", ""}}), Labels({{"a", ""}, {"b", ""}}), request));
  // A broken template compares as not equal.
  EXPECT_FALSE(IsLabelSubset(nse, Labels({{"app", "{{.app"}}), request));
}

TEST(MatchEndpointTest, NoMatchesMeansAllCandidates) {
  registry::NetworkService ns;
  ns.set_name("ns");
  const std::vector<registry::NetworkServiceEndpoint> nses = {Nse("a", "ns", {}),
                                                              Nse("b", "ns", {})};
  EXPECT_THAT(Names(MatchEndpoint({}, ns, nses)), ElementsAre("a", "b"));
}

// Scenario C.26: choose the NSE by destination_selector.
TEST(MatchEndpointTest, DestinationSelector) {
  registry::NetworkService ns;
  ns.set_name("ns");
  AddRoute(AddMatch(ns), Labels({{"color", "Blue"}}));
  const std::vector<registry::NetworkServiceEndpoint> nses = {
      Nse("green", "ns", Labels({{"color", "Green"}})),
      Nse("blue", "ns", Labels({{"color", "Blue"}})), Nse("other-service", "other", {})};
  EXPECT_THAT(Names(MatchEndpoint({}, ns, nses)), ElementsAre("blue"));
}

// Scenario C.28: source_selector + fallthrough.
TEST(MatchEndpointTest, SourceSelectorAndFallthrough) {
  registry::NetworkService ns;
  ns.set_name("ns");
  registry::Match* first = AddMatch(ns, Labels({{"app", "a"}}));
  AddRoute(first, Labels({{"x", "1"}}));
  first->set_fallthrough(true);
  AddRoute(AddMatch(ns), Labels({{"x", "2"}}));

  const LabelMap app_a = Labels({{"app", "a"}});
  std::vector<registry::NetworkServiceEndpoint> nses = {Nse("x2", "ns", Labels({{"x", "2"}}))};
  EXPECT_THAT(Names(MatchEndpoint(app_a, ns, nses)), ElementsAre("x2"));
  nses.push_back(Nse("x1", "ns", Labels({{"x", "1"}})));
  EXPECT_THAT(Names(MatchEndpoint(app_a, ns, nses)), ElementsAre("x1"));
  EXPECT_THAT(Names(MatchEndpoint(Labels({{"app", "b"}}), ns, nses)), ElementsAre("x2"));

  // Without fallthrough the first fitting match decides, even with no candidates.
  first->set_fallthrough(false);
  EXPECT_THAT(MatchEndpoint(app_a, ns, {Nse("x2", "ns", Labels({{"x", "2"}}))}), IsEmpty());
}

TEST(MatchEndpointTest, NoFittingSourceSelectorMeansNone) {
  registry::NetworkService ns;
  ns.set_name("ns");
  AddRoute(AddMatch(ns, Labels({{"app", "a"}})), {});
  EXPECT_THAT(MatchEndpoint(Labels({{"app", "b"}}), ns, {Nse("n", "ns", {})}), IsEmpty());
}

TEST(MatchEndpointTest, MetadataOnlyMatchYieldsAll) {
  registry::NetworkService ns;
  ns.set_name("ns");
  (*AddMatch(ns)->mutable_metadata()->mutable_labels())["capability"] = "true";
  const std::vector<registry::NetworkServiceEndpoint> nses = {Nse("a", "ns", {}),
                                                              Nse("b", "ns", {})};
  EXPECT_THAT(Names(MatchEndpoint({}, ns, nses)), ElementsAre("a", "b"));
  // Without metadata the same empty match yields nothing.
  registry::NetworkService bare;
  bare.set_name("ns");
  AddMatch(bare);
  EXPECT_THAT(MatchEndpoint({}, bare, nses), IsEmpty());
}

TEST(MatchEndpointTest, RouteOrderThenCandidateOrderWithDuplicates) {
  registry::NetworkService ns;
  ns.set_name("ns");
  registry::Match* match = AddMatch(ns);
  AddRoute(match, Labels({{"tier", "gold"}}));
  AddRoute(match, {});
  const std::vector<registry::NetworkServiceEndpoint> nses = {
      Nse("silver", "ns", Labels({{"tier", "silver"}})),
      Nse("gold", "ns", Labels({{"tier", "gold"}}))};
  EXPECT_THAT(Names(MatchEndpoint({}, ns, nses)), ElementsAre("gold", "silver", "gold"));
}

// Scenario C.29 (scale from zero) and upstream's labels-template test.
TEST(MatchEndpointTest, TemplatedNodeNamePrefersLocalNse) {
  registry::NetworkService ns;
  ns.set_name("icmp");
  registry::Match* local = AddMatch(ns);
  AddRoute(local, Labels({{"app", "nse-icmp-responder"}, {"nodeName", "{{.nodeName}}"}}));
  local->set_fallthrough(true);
  AddRoute(AddMatch(ns), Labels({{"app", "icmp-responder-supplier"}}));

  const LabelMap request = Labels({{"nodeName", "node-2"}});
  std::vector<registry::NetworkServiceEndpoint> nses = {
      Nse("supplier", "icmp", Labels({{"app", "icmp-responder-supplier"}})),
      Nse("nse-node-1", "icmp", Labels({{"app", "nse-icmp-responder"}, {"nodeName", "node-1"}}))};
  EXPECT_THAT(Names(MatchEndpoint(request, ns, nses)), ElementsAre("supplier"));
  nses.push_back(
      Nse("nse-node-2", "icmp", Labels({{"app", "nse-icmp-responder"}, {"nodeName", "node-2"}})));
  EXPECT_THAT(Names(MatchEndpoint(request, ns, nses)), ElementsAre("nse-node-2"));
}

TEST(MatchEndpointTest, TemplatedSourceSelector) {
  registry::NetworkService ns;
  ns.set_name("ns");
  AddRoute(AddMatch(ns, Labels({{"zone", "{{.region}}-a"}})), {});
  const LabelMap request = Labels({{"zone", "eu-a"}, {"region", "eu"}});
  EXPECT_THAT(Names(MatchEndpoint(request, ns, {Nse("n", "ns", {})})), ElementsAre("n"));
}

registry::NetworkServiceEndpoint Forwarder(std::string name, LabelMap labels) {
  return Nse(std::move(name), "forwarder", std::move(labels));
}

TEST(MatchForwardersTest, NoMatchesMeansAll) {
  registry::NetworkService ns;
  const std::vector<registry::NetworkServiceEndpoint> forwarders = {Forwarder("f1", {}),
                                                                    Forwarder("f2", {})};
  EXPECT_THAT(Names(MatchForwarders({}, ns, forwarders)), ElementsAre("f1", "f2"));
}

// Scenario C.24: select-forwarder by capability, and the p2p default.
TEST(MatchForwardersTest, MetadataLabelsOrP2pDefault) {
  const std::vector<registry::NetworkServiceEndpoint> forwarders = {
      Forwarder("default", Labels({{"p2p", "true"}})),
      Forwarder("special",
                Labels({{"p2p", "true"}, {"my_forwarder_capability", "true"}, {"nodeName", "n"}})),
      Forwarder("p2mp", Labels({{"p2mp", "true"}})),
      Nse("no-forwarder-labels", "other", Labels({{"p2p", "true"}}))};

  registry::NetworkService capability;
  (*AddMatch(capability)->mutable_metadata()->mutable_labels())["my_forwarder_capability"] = "true";
  EXPECT_THAT(Names(MatchForwarders({}, capability, forwarders)), ElementsAre("special"));

  registry::NetworkService p2mp;
  (*AddMatch(p2mp)->mutable_metadata()->mutable_labels())["p2mp"] = "true";
  EXPECT_THAT(Names(MatchForwarders({}, p2mp, forwarders)), ElementsAre("p2mp"));

  // Empty metadata labels (indistinguishable from none on the wire) mean p2p:true.
  registry::NetworkService empty_metadata;
  AddMatch(empty_metadata)->mutable_metadata();
  EXPECT_THAT(Names(MatchForwarders({}, empty_metadata, forwarders)),
              ElementsAre("default", "special"));
  registry::NetworkService no_metadata;
  AddMatch(no_metadata);
  EXPECT_THAT(Names(MatchForwarders({}, no_metadata, forwarders)),
              ElementsAre("default", "special"));
}

TEST(MatchForwardersTest, SourceSelectorFallthroughAndTemplates) {
  const std::vector<registry::NetworkServiceEndpoint> forwarders = {
      Forwarder("f-node-1", Labels({{"p2p", "true"}, {"nodeName", "node-1"}})),
      Forwarder("f-node-2", Labels({{"p2p", "true"}, {"nodeName", "node-2"}}))};
  registry::NetworkService ns;
  registry::Match* first = AddMatch(ns, Labels({{"app", "a"}}));
  (*first->mutable_metadata()->mutable_labels())["gpu"] = "true";
  first->set_fallthrough(true);
  (*AddMatch(ns)->mutable_metadata()->mutable_labels())["nodeName"] = "{{.nodeName}}";

  const LabelMap request = Labels({{"app", "a"}, {"nodeName", "node-2"}});
  EXPECT_THAT(Names(MatchForwarders(request, ns, forwarders)), ElementsAre("f-node-2"));

  first->set_fallthrough(false);
  EXPECT_THAT(MatchForwarders(request, ns, forwarders), IsEmpty());
}

TEST(PreferCandidateTest, SwapsNamedCandidateToFront) {
  std::vector<registry::NetworkServiceEndpoint> candidates = {
      Forwarder("a", {}), Forwarder("b", {}), Forwarder("c", {})};
  PreferCandidate(candidates, "c");
  EXPECT_THAT(Names(candidates), ElementsAre("c", "b", "a"));
  PreferCandidate(candidates, "missing");
  EXPECT_THAT(Names(candidates), ElementsAre("c", "b", "a"));
}

TEST(MatchNetworkServiceQueryTest, Fields) {
  registry::NetworkService stored;
  stored.set_name("icmp");
  stored.set_payload("ETHERNET");
  AddRoute(AddMatch(stored), Labels({{"color", "blue"}}));

  registry::NetworkService query;
  EXPECT_TRUE(MatchNetworkServiceQuery(query, stored));
  query.set_name("icmp");
  EXPECT_TRUE(MatchNetworkServiceQuery(query, stored));
  query.set_payload("IP");
  EXPECT_FALSE(MatchNetworkServiceQuery(query, stored));
  query.set_payload("ETHERNET");
  *query.mutable_matches() = stored.matches();
  EXPECT_TRUE(MatchNetworkServiceQuery(query, stored));
  (*query.mutable_matches(0)->mutable_routes(0)->mutable_destination_selector())["color"] = "red";
  EXPECT_FALSE(MatchNetworkServiceQuery(query, stored));
  query.set_name("icm");  // no substring matching for names
  query.clear_matches();
  EXPECT_FALSE(MatchNetworkServiceQuery(query, stored));
}

TEST(MatchNetworkServiceEndpointQueryTest, Fields) {
  registry::NetworkServiceEndpoint stored =
      Nse("fwd-1", "forwarder", Labels({{"p2p", "true"}, {"nodeName", "n1"}}));
  stored.add_network_service_names("other");
  stored.set_url("tcp://10.0.0.1:5001");
  stored.mutable_expiration_time()->set_seconds(100);
  stored.mutable_expiration_time()->set_nanos(5);

  registry::NetworkServiceEndpoint query;
  EXPECT_TRUE(MatchNetworkServiceEndpointQuery(query, stored));
  query.add_network_service_names("forwarder");
  query.set_url("10.0.0.1:5001");  // substring
  EXPECT_TRUE(MatchNetworkServiceEndpointQuery(query, stored));
  (*(*query.mutable_network_service_labels())["forwarder"].mutable_labels())["p2p"] = "true";
  EXPECT_TRUE(MatchNetworkServiceEndpointQuery(query, stored));
  query.mutable_expiration_time()->set_seconds(100);
  EXPECT_TRUE(MatchNetworkServiceEndpointQuery(query, stored));

  registry::NetworkServiceEndpoint wrong = query;
  wrong.set_url("tcp://10.0.0.2:5001");
  EXPECT_FALSE(MatchNetworkServiceEndpointQuery(wrong, stored));
  wrong = query;
  wrong.add_network_service_names("missing");
  EXPECT_FALSE(MatchNetworkServiceEndpointQuery(wrong, stored));
  wrong = query;
  (*(*wrong.mutable_network_service_labels())["forwarder"].mutable_labels())["p2p"] = "false";
  EXPECT_FALSE(MatchNetworkServiceEndpointQuery(wrong, stored));
  wrong = query;
  (*wrong.mutable_network_service_labels())["absent-service"];
  EXPECT_FALSE(MatchNetworkServiceEndpointQuery(wrong, stored));
  wrong = query;
  wrong.mutable_expiration_time()->set_seconds(101);
  EXPECT_FALSE(MatchNetworkServiceEndpointQuery(wrong, stored));
  wrong = query;
  wrong.set_name("fwd");
  EXPECT_FALSE(MatchNetworkServiceEndpointQuery(wrong, stored));
}

TEST(RoundRobinTest, CountsPerNetworkService) {
  RoundRobin rr;
  EXPECT_EQ(rr.Next("a", 3), 0u);
  EXPECT_EQ(rr.Next("a", 3), 1u);
  EXPECT_EQ(rr.Next("b", 3), 0u);
  EXPECT_EQ(rr.Next("a", 3), 2u);
  EXPECT_EQ(rr.Next("a", 3), 0u);
  EXPECT_EQ(rr.Next("a", 2), 0u);  // counter 4 % 2
  EXPECT_EQ(rr.Next("a", 0), 0u);
}

// Scenario G.67: K requests over M equal NSEs spread evenly.
TEST(RoundRobinTest, FairUnderConcurrency) {
  RoundRobin rr;
  std::vector<std::vector<int>> counts(4, std::vector<int>(3, 0));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) ++counts[t][rr.Next("ns", 3)];
    });
  }
  for (auto& thread : threads) thread.join();
  for (int candidate = 0; candidate < 3; ++candidate) {
    int total = 0;
    for (const auto& c : counts) total += c[candidate];
    EXPECT_EQ(total, 400);
  }
}

}  // namespace
}  // namespace nsmcert::sdk::tools
