#include "reference/sdk/elements/connection_monitor.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>
#include <vector>

namespace nsmcert::sdk {
namespace {

constexpr absl::Duration kWait = absl::Seconds(5);
constexpr absl::Duration kNone = absl::Milliseconds(20);

connection::Connection Conn(const std::string& id, const std::string& service,
                            std::vector<std::pair<std::string, std::string>> segments) {
  connection::Connection conn;
  conn.set_id(id);
  conn.set_network_service(service);
  for (const auto& [name, seg_id] : segments) {
    auto* s = conn.mutable_path()->add_path_segments();
    s->set_name(name);
    s->set_id(seg_id);
    s->set_token("tok-" + name);
  }
  return conn;
}

connection::PathSegment Seg(const std::string& name, const std::string& id,
                            const std::string& token = "") {
  connection::PathSegment s;
  s.set_name(name);
  s.set_id(id);
  s.set_token(token);
  return s;
}

TEST(MonitorSelector, EmptySelectorMatchesEverything) {
  EXPECT_TRUE(MonitorSelectorMatches({}, Conn("a", "svc", {})));
}

TEST(MonitorSelector, NetworkServicesMustContainTheConnectionsService) {
  connection::MonitorScopeSelector sel;
  sel.add_network_services("other");
  EXPECT_FALSE(MonitorSelectorMatches(sel, Conn("a", "svc", {})));
  sel.add_network_services("svc");
  EXPECT_TRUE(MonitorSelectorMatches(sel, Conn("a", "svc", {})));
}

TEST(MonitorSelector, PathSegmentsMatchAContiguousRunComparingOnlySetFields) {
  auto conn = Conn("x", "svc", {{"nsc", "0"}, {"nsmgr", "1"}, {"fwd", "2"}, {"nse", "3"}});
  connection::MonitorScopeSelector sel;
  *sel.add_path_segments() = Seg("nsmgr", "1");
  *sel.add_path_segments() = Seg("", "2");
  EXPECT_TRUE(MonitorSelectorMatches(sel, conn));

  connection::MonitorScopeSelector gap;
  *gap.add_path_segments() = Seg("nsmgr", "");
  *gap.add_path_segments() = Seg("nse", "");
  EXPECT_FALSE(MonitorSelectorMatches(gap, conn));  // not contiguous

  connection::MonitorScopeSelector token;
  *token.add_path_segments() = Seg("", "", "tok-nse");
  EXPECT_TRUE(MonitorSelectorMatches(token, conn));
  token.mutable_path_segments(0)->set_token("forged");
  EXPECT_FALSE(MonitorSelectorMatches(token, conn));

  connection::MonitorScopeSelector longer;
  for (int i = 0; i < 5; ++i) *longer.add_path_segments() = Seg("", "");
  EXPECT_FALSE(MonitorSelectorMatches(longer, conn));

  connection::MonitorScopeSelector both = sel;
  both.add_network_services("other");
  EXPECT_FALSE(MonitorSelectorMatches(both, conn));
}

TEST(ConnectionMonitor, SubscribeStartsWithOneInitialTransferOfTheMatchingConnections) {
  ConnectionMonitor monitor;
  monitor.Update(Conn("a", "svc", {{"nsc", "a0"}}));
  monitor.Update(Conn("b", "other", {{"nsc", "b0"}}));
  connection::MonitorScopeSelector sel;
  sel.add_network_services("svc");
  auto sub = monitor.Subscribe(sel);
  auto first = sub->Next(kWait);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type(), connection::INITIAL_STATE_TRANSFER);
  ASSERT_EQ(first->connections().size(), 1u);
  EXPECT_TRUE(first->connections().contains("a"));
  EXPECT_FALSE(sub->Next(kNone).has_value());
}

TEST(ConnectionMonitor, InitialTransferForNoMatchIsAnEmptyMap) {
  ConnectionMonitor monitor;
  monitor.Update(Conn("a", "svc", {}));
  connection::MonitorScopeSelector sel;
  *sel.add_path_segments() = Seg("", "does-not-exist");
  auto sub = monitor.Subscribe(sel);
  auto first = sub->Next(kWait);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->type(), connection::INITIAL_STATE_TRANSFER);
  EXPECT_TRUE(first->connections().empty());
}

TEST(ConnectionMonitor, UpdatesAndDeletesReachMatchingSubscribersOnly) {
  ConnectionMonitor monitor;
  connection::MonitorScopeSelector svc;
  svc.add_network_services("svc");
  auto mine = monitor.Subscribe(svc);
  auto all = monitor.Subscribe({});
  ASSERT_TRUE(mine->Next(kWait).has_value());
  ASSERT_TRUE(all->Next(kWait).has_value());

  monitor.Update(Conn("b", "other", {}));
  monitor.Update(Conn("a", "svc", {}));
  monitor.Delete(Conn("a", "svc", {}));

  auto e1 = mine->Next(kWait);
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ(e1->type(), connection::UPDATE);
  EXPECT_TRUE(e1->connections().contains("a"));
  auto e2 = mine->Next(kWait);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->type(), connection::DELETE);
  EXPECT_TRUE(e2->connections().contains("a"));
  EXPECT_FALSE(mine->Next(kNone).has_value());

  for (auto type : {connection::UPDATE, connection::UPDATE, connection::DELETE}) {
    auto e = all->Next(kWait);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->type(), type);
  }
  EXPECT_EQ(monitor.Connections().size(), 1u);
  EXPECT_TRUE(monitor.Find("b").has_value());
}

TEST(ConnectionMonitor, NextWakesUpForAnEventPublishedFromAnotherThread) {
  ConnectionMonitor monitor;
  auto sub = monitor.Subscribe({});
  ASSERT_TRUE(sub->Next(kWait).has_value());
  std::thread publisher([&] { monitor.Update(Conn("a", "svc", {})); });
  auto e = sub->Next(kWait);
  publisher.join();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type(), connection::UPDATE);
}

TEST(ConnectionMonitor, ShutdownEndsSubscriptionsAfterTheirQueuedEvents) {
  ConnectionMonitor monitor;
  auto sub = monitor.Subscribe({});
  monitor.Update(Conn("a", "svc", {}));
  monitor.Shutdown();
  EXPECT_FALSE(sub->ended());
  EXPECT_TRUE(sub->Next(kWait).has_value());  // initial transfer
  EXPECT_TRUE(sub->Next(kWait).has_value());  // update
  EXPECT_FALSE(sub->Next(kWait).has_value());
  EXPECT_TRUE(sub->ended());
  EXPECT_EQ(monitor.subscriber_count(), 0u);
}

TEST(ConnectionMonitor, ASubscriberThatStopsReadingIsCutOff) {
  ConnectionMonitor monitor;
  auto slow = monitor.Subscribe({});
  for (size_t i = 0; i <= ConnectionMonitor::kMaxQueuedEvents; ++i) {
    monitor.Update(Conn("a", "svc", {}));
  }
  EXPECT_TRUE(slow->overflowed());
  EXPECT_TRUE(slow->ended());
  EXPECT_EQ(monitor.subscriber_count(), 0u);
}

TEST(ConnectionMonitor, NotifyIsCalledAtOnceAndForEveryQueuedEventAndTheEnd) {
  ConnectionMonitor monitor;
  auto sub = monitor.Subscribe({});
  int calls = 0;
  std::vector<connection::ConnectionEventType> taken;
  sub->SetNotify([&] {
    ++calls;
    // A notify callback may pull: no lock of the monitor is held.
    while (auto event = sub->TryNext()) taken.push_back(event->type());
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(taken,
            std::vector<connection::ConnectionEventType>{connection::INITIAL_STATE_TRANSFER});
  monitor.Update(Conn("a", "svc", {}));
  monitor.Delete(Conn("a", "svc", {}));
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(taken.size(), 3u);
  EXPECT_FALSE(sub->TryNext().has_value());
  EXPECT_FALSE(sub->ended());
  monitor.Shutdown();
  EXPECT_EQ(calls, 4);
  EXPECT_TRUE(sub->ended());
}

TEST(ConnectionMonitor, NotifyIsNotCalledForEventsTheSelectorSkips) {
  ConnectionMonitor monitor;
  connection::MonitorScopeSelector selector;
  selector.add_network_services("svc");
  auto sub = monitor.Subscribe(selector);
  int calls = 0;
  sub->SetNotify([&] { ++calls; });
  monitor.Update(Conn("b", "other", {}));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(sub->TryNext().has_value());  // the initial transfer
  EXPECT_FALSE(sub->TryNext().has_value());
}

TEST(ConnectionMonitor, NotifyTellsOfAnOverflow) {
  ConnectionMonitor monitor;
  auto sub = monitor.Subscribe({});
  bool ended = false;
  sub->SetNotify([&] { ended = sub->ended(); });
  for (size_t i = 0; i <= ConnectionMonitor::kMaxQueuedEvents; ++i) {
    monitor.Update(Conn("a", "svc", {}));
  }
  EXPECT_TRUE(ended);
  EXPECT_TRUE(sub->overflowed());
}

TEST(ConnectionMonitor, NotifyMayOutliveItsSubscription) {
  ConnectionMonitor monitor;
  auto counter = std::make_shared<int>(0);
  {
    auto sub = monitor.Subscribe({});
    sub->SetNotify([counter] { ++*counter; });
  }
  monitor.Update(Conn("a", "svc", {}));
  EXPECT_EQ(*counter, 1);  // only the call at SetNotify: a destroyed subscription is not told
  EXPECT_EQ(counter.use_count(), 1);
}

TEST(ConnectionMonitor, DestroyingASubscriptionUnsubscribes) {
  ConnectionMonitor monitor;
  { auto sub = monitor.Subscribe({}); }
  EXPECT_EQ(monitor.subscriber_count(), 0u);
  monitor.Update(Conn("a", "svc", {}));
}

}  // namespace
}  // namespace nsmcert::sdk
