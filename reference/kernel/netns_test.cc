#include "reference/kernel/netns.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference/kernel/testing.h"

namespace nsmcert::kernel {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// ---- without root ----

TEST(InodeUrlTest, ParsesAndFormatsDecimalDevAndIno) {
  absl::StatusOr<NetNsId> id = ParseInodeUrl("inode://4/4026531840");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->dev, 4u);
  EXPECT_EQ(id->ino, 4026531840u);
  EXPECT_EQ(FormatInodeUrl(*id), "inode://4/4026531840");
}

TEST(InodeUrlTest, RejectsMalformedUrlsNamingTheUrl) {
  for (const char* bad : {"", "inode://", "inode://4", "inode:///5", "inode://4/", "inode://x/5",
                          "inode://4/5x", "file://4/5", "inode://-1/5", "inode://4/5/6"}) {
    absl::StatusOr<NetNsId> id = ParseInodeUrl(bad);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(id.status().message()), HasSubstr(std::string("\"") + bad + "\""));
  }
}

TEST(NetNsNameTest, ValidatesNames) {
  EXPECT_TRUE(ValidateNetNsName("client-1").ok());
  EXPECT_FALSE(ValidateNetNsName("").ok());
  EXPECT_FALSE(ValidateNetNsName(".").ok());
  EXPECT_FALSE(ValidateNetNsName("..").ok());
  EXPECT_FALSE(ValidateNetNsName("a/b").ok());
  EXPECT_FALSE(ValidateNetNsName("a b").ok());
  EXPECT_FALSE(ValidateNetNsName(std::string(256, 'a')).ok());
}

TEST(NetNsRefTest, ValidatesEveryAcceptedForm) {
  EXPECT_TRUE(ValidateNetNsRef("").ok());
  EXPECT_TRUE(ValidateNetNsRef("inode://4/123").ok());
  EXPECT_TRUE(ValidateNetNsRef("file:///proc/1/ns/net").ok());
  EXPECT_TRUE(ValidateNetNsRef("/run/netns/x").ok());
  EXPECT_TRUE(ValidateNetNsRef("workload-1").ok());
  EXPECT_FALSE(ValidateNetNsRef("inode://4").ok());
  EXPECT_FALSE(ValidateNetNsRef("file://relative").ok());
  EXPECT_FALSE(ValidateNetNsRef("unix:///x").ok());
}

TEST(NetNsTest, EmptyHandleIsInvalid) {
  NetNs ns;
  EXPECT_FALSE(ns.valid());
  EXPECT_FALSE(ns.Dup().ok());
  EXPECT_FALSE(RunInNetNs(ns, [] { return 1; }).ok());
}

TEST(NetNsTest, CurrentMatchesProcSelf) {
  absl::StatusOr<NetNs> current = NetNs::Current();
  ASSERT_TRUE(current.ok()) << current.status();
  struct stat st {};
  ASSERT_EQ(stat("/proc/self/ns/net", &st), 0);
  EXPECT_EQ(current->dev(), st.st_dev);
  EXPECT_EQ(current->ino(), st.st_ino);
  EXPECT_EQ(current->InodeUrl(),
            "inode://" + std::to_string(st.st_dev) + "/" + std::to_string(st.st_ino));
  absl::StatusOr<NetNs> dup = current->Dup();
  ASSERT_TRUE(dup.ok());
  EXPECT_NE(dup->fd(), current->fd());
  EXPECT_TRUE(dup->SameAs(*current));
}

TEST(NetNsTest, FromPathRejectsFilesThatAreNotNetworkNamespaces) {
  EXPECT_EQ(NetNs::FromPath("/proc/self/ns/uts").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(NetNs::FromPath("/etc/hostname").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(NetNs::FromPath("/nonexistent/ns").status().code(), absl::StatusCode::kNotFound);
}

TEST(NetNsTest, FromInodeUrlFindsOwnNamespaceAndReportsUnknownOnes) {
  absl::StatusOr<NetNs> current = NetNs::Current();
  ASSERT_TRUE(current.ok());
  absl::StatusOr<NetNs> found = NetNs::FromInodeUrl(current->InodeUrl());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->SameAs(*current));

  absl::StatusOr<NetNs> missing = NetNs::FromInodeUrl("inode://4/1");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("inode://4/1"));
}

TEST(NetNsTest, RunInNetNsFlattensResultTypes) {
  absl::StatusOr<NetNs> current = NetNs::Current();
  ASSERT_TRUE(current.ok());
  absl::StatusOr<int> value = RunInNetNs(*current, [] { return 42; });
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 42);
  absl::Status status = RunInNetNs(*current, [] { return absl::NotFoundError("x"); });
  EXPECT_TRUE(absl::IsNotFound(status));
  absl::StatusOr<std::string> text =
      RunInNetNs(*current, []() -> absl::StatusOr<std::string> { return std::string("y"); });
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "y");
  int touched = 0;
  EXPECT_TRUE(RunInNetNs(*current, [&] { touched = 1; }).ok());
  EXPECT_EQ(touched, 1);
}

TEST(NetNsTest, IsCallingThreadNetNsComparesWithTheThreadsOwnInode) {
  absl::StatusOr<NetNs> current = NetNs::Current();
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_TRUE(IsCallingThreadNetNs(*current));
  absl::StatusOr<NetNs> by_pid = NetNs::FromPid(getpid());
  ASSERT_TRUE(by_pid.ok()) << by_pid.status();
  EXPECT_TRUE(IsCallingThreadNetNs(*by_pid));  // another fd, the same namespace
  EXPECT_FALSE(IsCallingThreadNetNs(NetNs()));
}

TEST(NetNsTest, RunInNetNsCountsTheThreadsItStarts) {
  absl::StatusOr<NetNs> current = NetNs::Current();
  ASSERT_TRUE(current.ok());
  const std::uint64_t before = NetNsThreadsStarted();
  ASSERT_TRUE(RunInNetNs(*current, [] {}).ok());
  ASSERT_TRUE(RunInNetNs(*current, [] { return 1; }).ok());
  EXPECT_EQ(NetNsThreadsStarted(), before + 2);
}

TEST(IndexedNetNsResolverTest, WithoutFallbackUnknownIsNotFound) {
  IndexedNetNsResolver resolver;
  EXPECT_EQ(resolver.Resolve("inode://4/1").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(resolver.Resolve("inode://x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(resolver.Resolve("some-name").status().code(), absl::StatusCode::kNotFound);
}

TEST(SysctlTest, RejectsKeysOutsideNet) {
  absl::StatusOr<NetNs> current = NetNs::Current();
  ASSERT_TRUE(current.ok());
  for (const char* bad : {"kernel/hostname", "net/../kernel/hostname", "net/ipv4/", "", "net//x"}) {
    EXPECT_EQ(WriteNetSysctl(*current, bad, "1").code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

// ---- privileged ----

class NetNsPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
  }
};

TEST_F(NetNsPrivilegedTest, CreateListDeleteNamedNamespace) {
  const std::string name = testing::UniqueNetNsName("nsk-named");
  {
    absl::StatusOr<ScopedNamedNetNs> ns = ScopedNamedNetNs::Create(name);
    ASSERT_TRUE(ns.ok()) << ns.status();
    EXPECT_THAT(ListNamedNetNs(), Contains(name));
    absl::StatusOr<NetNs> current = NetNs::Current();
    ASSERT_TRUE(current.ok());
    EXPECT_FALSE(ns->ns().SameAs(*current));

    absl::StatusOr<NetNs> by_name = NetNs::FromName(name);
    ASSERT_TRUE(by_name.ok()) << by_name.status();
    EXPECT_TRUE(by_name->SameAs(ns->ns()));

    absl::StatusOr<NetNs> again = CreateNamedNetNs(name);
    EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
  }
  EXPECT_THAT(ListNamedNetNs(), Not(Contains(name)));
  EXPECT_EQ(NetNs::FromName(name).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DeleteNamedNetNs(name).code(), absl::StatusCode::kNotFound);
}

TEST_F(NetNsPrivilegedTest, InodeUrlResolvesBackToTheNamedNamespace) {
  absl::StatusOr<ScopedNamedNetNs> ns =
      ScopedNamedNetNs::Create(testing::UniqueNetNsName("nsk-url"));
  ASSERT_TRUE(ns.ok()) << ns.status();
  const std::string url = ns->ns().InodeUrl();
  absl::StatusOr<NetNs> resolved = NetNs::FromInodeUrl(url);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_TRUE(resolved->SameAs(ns->ns()));
  ProcNetNsResolver resolver;
  for (const std::string& ref : {url, ns->name(), std::string(kNamedNetNsDir) + "/" + ns->name(),
                                 "file://" + std::string(kNamedNetNsDir) + "/" + ns->name()}) {
    absl::StatusOr<NetNs> r = resolver.Resolve(ref);
    ASSERT_TRUE(r.ok()) << ref << ": " << r.status();
    EXPECT_TRUE(r->SameAs(ns->ns())) << ref;
  }
}

TEST_F(NetNsPrivilegedTest, InodeUrlResolvesANamespaceHeldOnlyByAThread) {
  // A namespace with no name and no process: only a thread sits in it. The resolver must find it
  // under /proc/<pid>/task/<tid>/ns/net.
  absl::StatusOr<ScopedNamedNetNs> named =
      ScopedNamedNetNs::Create(testing::UniqueNetNsName("nsk-thread"));
  ASSERT_TRUE(named.ok()) << named.status();
  absl::StatusOr<std::unique_ptr<NetNsThread>> thread = NetNsThread::Start(named->ns());
  ASSERT_TRUE(thread.ok()) << thread.status();
  const std::string url = named->ns().InodeUrl();
  ASSERT_TRUE(named->Delete().ok());
  absl::StatusOr<NetNs> resolved = NetNs::FromInodeUrl(url);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->InodeUrl(), url);
}

TEST_F(NetNsPrivilegedTest, RunInNetNsEntersTheNamespaceAndLeavesCallerAlone) {
  absl::StatusOr<ScopedNamedNetNs> ns =
      ScopedNamedNetNs::Create(testing::UniqueNetNsName("nsk-run"));
  ASSERT_TRUE(ns.ok()) << ns.status();
  absl::StatusOr<NetNs> before = NetNs::Current();
  ASSERT_TRUE(before.ok());
  absl::StatusOr<std::string> inside = RunInNetNs(ns->ns(), []() -> absl::StatusOr<std::string> {
    absl::StatusOr<NetNs> here = NetNs::Current();
    if (!here.ok()) return here.status();
    return here->InodeUrl();
  });
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_EQ(*inside, ns->ns().InodeUrl());
  absl::StatusOr<NetNs> after = NetNs::Current();
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->SameAs(*before));
}

TEST_F(NetNsPrivilegedTest, IsCallingThreadNetNsTellsAnotherNamespaceFromTheThreadsOwn) {
  absl::StatusOr<ScopedNamedNetNs> ns =
      ScopedNamedNetNs::Create(testing::UniqueNetNsName("nsk-self"));
  ASSERT_TRUE(ns.ok()) << ns.status();
  absl::StatusOr<NetNs> root = NetNs::Current();
  ASSERT_TRUE(root.ok());
  EXPECT_FALSE(IsCallingThreadNetNs(ns->ns()));
  // Membership is per thread: inside, the answers swap.
  absl::StatusOr<std::pair<bool, bool>> inside = RunInNetNs(ns->ns(), [&] {
    return std::make_pair(IsCallingThreadNetNs(ns->ns()), IsCallingThreadNetNs(*root));
  });
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_TRUE(inside->first);
  EXPECT_FALSE(inside->second);
  EXPECT_TRUE(IsCallingThreadNetNs(*root));
}

TEST_F(NetNsPrivilegedTest, NetNsThreadRunsEveryTaskInsideTheNamespace) {
  absl::StatusOr<ScopedNamedNetNs> ns =
      ScopedNamedNetNs::Create(testing::UniqueNetNsName("nsk-exec"));
  ASSERT_TRUE(ns.ok()) << ns.status();
  absl::StatusOr<std::unique_ptr<NetNsThread>> exec = NetNsThread::Start(ns->ns());
  ASSERT_TRUE(exec.ok()) << exec.status();
  for (int i = 0; i < 3; ++i) {
    std::string url = (*exec)->Run([] {
      absl::StatusOr<NetNs> here = NetNs::Current();
      return here.ok() ? here->InodeUrl() : std::string();
    });
    EXPECT_EQ(url, ns->ns().InodeUrl());
  }
  int counter = 0;
  (*exec)->Run([&] { ++counter; });
  EXPECT_EQ(counter, 1);
}

TEST_F(NetNsPrivilegedTest, FromPidFindsOwnProcess) {
  absl::StatusOr<NetNs> mine = NetNs::FromPid(getpid());
  ASSERT_TRUE(mine.ok()) << mine.status();
  absl::StatusOr<NetNs> current = NetNs::Current();
  ASSERT_TRUE(current.ok());
  EXPECT_TRUE(mine->SameAs(*current));
}

TEST_F(NetNsPrivilegedTest, IndexedResolverFindsANamespaceOnlyItHolds) {
  // Once the name is gone and nobody sits in the namespace, only the registered handle knows it:
  // the /proc search cannot find it, the indexed resolver can.
  absl::StatusOr<ScopedNamedNetNs> named =
      ScopedNamedNetNs::Create(testing::UniqueNetNsName("nsk-index"));
  ASSERT_TRUE(named.ok()) << named.status();
  absl::StatusOr<NetNs> handle = named->ns().Dup();
  ASSERT_TRUE(handle.ok());
  const std::string url = handle->InodeUrl();
  const NetNsId id = handle->id();
  ASSERT_TRUE(named->Delete().ok());

  ProcNetNsResolver proc;
  IndexedNetNsResolver indexed(&proc);
  EXPECT_EQ(proc.Resolve(url).status().code(), absl::StatusCode::kNotFound);
  indexed.Add(*std::move(handle));
  EXPECT_EQ(indexed.size(), 1u);
  absl::StatusOr<NetNs> resolved = indexed.Resolve(url);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->InodeUrl(), url);
  // Other references go to the fallback.
  absl::StatusOr<NetNs> current = indexed.Resolve("");
  ASSERT_TRUE(current.ok());
  EXPECT_NE(current->InodeUrl(), url);
  EXPECT_TRUE(indexed.Remove(id));
  EXPECT_FALSE(indexed.Remove(id));
  EXPECT_EQ(indexed.Resolve(url).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(NetNsPrivilegedTest, SysctlsArePerNamespace) {
  absl::StatusOr<ScopedNamedNetNs> ns =
      ScopedNamedNetNs::Create(testing::UniqueNetNsName("nsk-sysctl"));
  ASSERT_TRUE(ns.ok()) << ns.status();
  absl::StatusOr<NetNs> root = NetNs::Current();
  ASSERT_TRUE(root.ok());
  absl::StatusOr<std::string> root_before = ReadNetSysctl(*root, "net/ipv4/ip_forward");
  ASSERT_TRUE(root_before.ok()) << root_before.status();
  absl::StatusOr<std::string> fresh = ReadNetSysctl(ns->ns(), "net/ipv4/ip_forward");
  ASSERT_TRUE(fresh.ok());
  const std::string flipped = *fresh == "1" ? "0" : "1";
  ASSERT_TRUE(WriteNetSysctl(ns->ns(), "net/ipv4/ip_forward", flipped).ok());
  EXPECT_EQ(*ReadNetSysctl(ns->ns(), "net/ipv4/ip_forward"), flipped);
  EXPECT_EQ(*ReadNetSysctl(*root, "net/ipv4/ip_forward"), *root_before);
  EXPECT_EQ(WriteNetSysctl(ns->ns(), "net/ipv4/conf/nosuch0/route_localnet", "1").code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nsmcert::kernel
