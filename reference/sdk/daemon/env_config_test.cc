#include "reference/sdk/daemon/env_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace nsmcert::sdk::daemon {
namespace {

EnvConfig::Getenv FakeEnv(std::map<std::string, std::string> env) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(env));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

struct Config {
  std::string name;
  std::vector<std::string> listen_on;
  absl::Duration lifetime;
  bool register_service = false;
  unsigned port = 0;
};

EnvConfig Declare(Config& c) {
  EnvConfig env("nsmcert-test", "A test daemon.");
  env.String("NSM_NAME", &c.name, "nsmgr", "name of this daemon");
  env.List("NSM_LISTEN_ON", &c.listen_on, "unix:///a.sock", "URLs to listen on");
  env.Duration("NSM_MAX_TOKEN_LIFETIME", &c.lifetime, "10m", "token lifetime");
  env.Bool("NSM_REGISTER_SERVICE", &c.register_service, "true", "register the service");
  env.Uint("NSM_VXLAN_PORT", &c.port, "0", "VXLAN port");
  return env;
}

TEST(EnvConfig, DefaultsApplyWhenUnsetOrEmpty) {
  Config c;
  EnvConfig env = Declare(c);
  ASSERT_TRUE(env.Load(FakeEnv({{"NSM_NAME", ""}})).ok());
  EXPECT_EQ(c.name, "nsmgr");
  EXPECT_EQ(c.listen_on, std::vector<std::string>{"unix:///a.sock"});
  EXPECT_EQ(c.lifetime, absl::Minutes(10));
  EXPECT_TRUE(c.register_service);
  EXPECT_EQ(c.port, 0u);
}

TEST(EnvConfig, ValuesAreParsed) {
  Config c;
  EnvConfig env = Declare(c);
  ASSERT_TRUE(env.Load(FakeEnv({{"NSM_NAME", "nsmgr-a"},
                                {"NSM_LISTEN_ON", "unix:///x.sock, tcp://:5001,"},
                                {"NSM_MAX_TOKEN_LIFETIME", "1m30s"},
                                {"NSM_REGISTER_SERVICE", "False"},
                                {"NSM_VXLAN_PORT", "4790"}}))
                  .ok());
  EXPECT_EQ(c.name, "nsmgr-a");
  EXPECT_EQ(c.listen_on, (std::vector<std::string>{"unix:///x.sock", "tcp://:5001"}));
  EXPECT_EQ(c.lifetime, absl::Seconds(90));
  EXPECT_FALSE(c.register_service);
  EXPECT_EQ(c.port, 4790u);
}

TEST(EnvConfig, ErrorsNameTheVariableAndValue) {
  Config c;
  EnvConfig env = Declare(c);
  absl::Status s = env.Load(FakeEnv({{"NSM_MAX_TOKEN_LIFETIME", "ten minutes"}}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("NSM_MAX_TOKEN_LIFETIME=\"ten minutes\""), std::string::npos) << s;
  EXPECT_FALSE(env.Load(FakeEnv({{"NSM_REGISTER_SERVICE", "maybe"}})).ok());
  EXPECT_FALSE(env.Load(FakeEnv({{"NSM_VXLAN_PORT", "-1"}})).ok());
}

TEST(EnvConfig, HelpListsEveryVariableWithItsDefault) {
  Config c;
  EnvConfig env = Declare(c);
  std::string help = env.Help();
  for (const char* name : {"NSM_NAME", "NSM_LISTEN_ON", "NSM_MAX_TOKEN_LIFETIME",
                           "NSM_REGISTER_SERVICE", "NSM_VXLAN_PORT"}) {
    EXPECT_NE(help.find(name), std::string::npos) << name;
  }
  EXPECT_NE(help.find("(default \"10m\")"), std::string::npos);
}

TEST(EnvConfig, HandleArgs) {
  Config c;
  EnvConfig env = Declare(c);
  char prog[] = "prog";
  char help[] = "--help";
  char bogus[] = "--bogus";
  char* none[] = {prog};
  char* with_help[] = {prog, help};
  char* with_bogus[] = {prog, bogus};
  EXPECT_FALSE(*env.HandleArgs(1, none));
  testing::internal::CaptureStdout();
  EXPECT_TRUE(*env.HandleArgs(2, with_help));
  EXPECT_NE(testing::internal::GetCapturedStdout().find("NSM_NAME"), std::string::npos);
  EXPECT_FALSE(env.HandleArgs(2, with_bogus).ok());
}

}  // namespace
}  // namespace nsmcert::sdk::daemon
