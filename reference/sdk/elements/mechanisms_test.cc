#include "reference/sdk/elements/mechanisms.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

// A handler that names itself in a mechanism parameter, or fails.
class Handler : public NetworkServiceElement {
 public:
  Handler(std::string name, bool fail = false) : name_(std::move(name)), fail_(fail) {}
  int requests = 0, closes = 0;
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    ++requests;
    if (fail_) return absl::UnavailableError(name_ + " cannot");
    (*request.mutable_connection()->mutable_mechanism()->mutable_parameters())["by"] = name_;
    return next.Request(ctx, request);
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    ++closes;
    return next.Close(ctx, conn);
  }

 private:
  std::string name_;
  bool fail_;
};

networkservice::NetworkServiceRequest WithPreferences(std::vector<std::string> types) {
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("c1");
  for (const auto& type : types) {
    auto* m = request.add_mechanism_preferences();
    m->set_cls("LOCAL");
    m->set_type(type);
  }
  return request;
}

TEST(Mechanisms, TheFirstPreferenceWithAHandlerThatSucceedsWins) {
  auto kernel = std::make_shared<Handler>("kernel");
  auto memif = std::make_shared<Handler>("memif", /*fail=*/true);
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain(
      {std::make_shared<Mechanisms>(std::map<std::string, std::shared_ptr<NetworkServiceElement>>{
           {"KERNEL", kernel}, {"MEMIF", memif}}),
       tail});
  Context ctx;
  auto request = WithPreferences({"VFIO", "MEMIF", "KERNEL"});
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->mechanism().type(), "KERNEL");
  EXPECT_EQ(conn->mechanism().cls(), "LOCAL");
  EXPECT_EQ(conn->mechanism().parameters().at("by"), "kernel");
  EXPECT_EQ(memif->requests, 1);
  EXPECT_EQ(tail->request_count(), 1u);
}

TEST(Mechanisms, ARefreshKeepsTheChosenMechanism) {
  auto kernel = std::make_shared<Handler>("kernel");
  auto memif = std::make_shared<Handler>("memif");
  auto chain = MakeChain(
      {std::make_shared<Mechanisms>(std::map<std::string, std::shared_ptr<NetworkServiceElement>>{
          {"KERNEL", kernel}, {"MEMIF", memif}})});
  Context ctx;
  auto request = WithPreferences({"MEMIF"});
  request.mutable_connection()->mutable_mechanism()->set_type("KERNEL");
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->mechanism().parameters().at("by"), "kernel");
  EXPECT_EQ(memif->requests, 0);
}

TEST(Mechanisms, ARefreshWithAnUnsupportedMechanismFails) {
  auto chain = MakeChain(
      {std::make_shared<Mechanisms>(std::map<std::string, std::shared_ptr<NetworkServiceElement>>{
          {"KERNEL", std::make_shared<Handler>("kernel")}})});
  Context ctx;
  auto request = WithPreferences({"KERNEL"});
  request.mutable_connection()->mutable_mechanism()->set_type("VXLAN");
  auto conn = chain->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(conn.status().message()).find("unsupported mechanism"), std::string::npos);
}

TEST(Mechanisms, NoUsablePreferenceIsAnErrorNamingThem) {
  auto chain = MakeChain(
      {std::make_shared<Mechanisms>(std::map<std::string, std::shared_ptr<NetworkServiceElement>>{
          {"KERNEL", std::make_shared<Handler>("kernel", /*fail=*/true)}})});
  Context ctx;
  auto request = WithPreferences({"MEMIF", "KERNEL"});
  auto conn = chain->Request(ctx, request);
  // The handler's own code is kept; the message names every preference.
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  std::string message(conn.status().message());
  EXPECT_NE(message.find("MEMIF, KERNEL"), std::string::npos) << message;
  EXPECT_NE(message.find("kernel cannot"), std::string::npos) << message;

  auto none = WithPreferences({});
  EXPECT_EQ(chain->Request(ctx, none).status().code(), absl::StatusCode::kInvalidArgument);
  auto unknown = WithPreferences({"MEMIF"});
  EXPECT_EQ(chain->Request(ctx, unknown).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Mechanisms, CloseGoesToTheHandlerOfTheConnectionsMechanism) {
  auto kernel = std::make_shared<Handler>("kernel");
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain(
      {std::make_shared<Mechanisms>(
           std::map<std::string, std::shared_ptr<NetworkServiceElement>>{{"KERNEL", kernel}}),
       tail});
  Context ctx;
  connection::Connection conn;
  conn.mutable_mechanism()->set_type("KERNEL");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(kernel->closes, 1);
  EXPECT_EQ(tail->close_count(), 1u);

  conn.mutable_mechanism()->set_type("WIREGUARD");
  EXPECT_EQ(chain->Close(ctx, conn).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tail->close_count(), 2u);  // the rest of the chain was still closed
}

}  // namespace
}  // namespace nsmcert::sdk
