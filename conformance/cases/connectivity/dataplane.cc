#include "conformance/cases/connectivity/dataplane.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/time/clock.h"
#include "conformance/cases/text.h"
#include "pcap/netns.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

// Runs argv with stdout and stderr into one pipe; the exit code and what it printed.
absl::StatusOr<CommandOutput> Run(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(Cat("pipe: ", std::strerror(errno)));
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return absl::InternalError(Cat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  CommandOutput out;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n > 0) {
      out.output.append(buffer, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (out.exit_code == 127 && out.output.empty()) {
    return absl::NotFoundError(Cat("cannot run ", argv[0]));
  }
  return out;
}

InterfaceState ParseInterface(const nlohmann::json& link) {
  InterfaceState state;
  state.name = link.value("ifname", "");
  state.ifindex = link.value("ifindex", 0);
  state.mtu = link.value("mtu", 0);
  if (link.contains("flags") && link["flags"].is_array()) {
    for (const auto& flag : link["flags"]) {
      if (flag.is_string() && flag.get<std::string>() == "UP") state.up = true;
    }
  }
  if (link.contains("linkinfo") && link["linkinfo"].is_object()) {
    const nlohmann::json& info = link["linkinfo"];
    state.kind = info.value("info_kind", "");
    if (state.kind == "vxlan" && info.contains("info_data") && info["info_data"].is_object()) {
      state.vxlan_id = info["info_data"].value("id", 0u);
    }
  }
  if (link.contains("addr_info") && link["addr_info"].is_array()) {
    for (const auto& addr : link["addr_info"]) {
      if (!addr.contains("local")) continue;
      // IPv6 link-local addresses are the kernel's own, not the connection's.
      if (addr.value("family", "") == "inet6" && addr.value("scope", "") == "link") continue;
      state.cidrs.push_back(Cat(addr.value("local", ""), "/", addr.value("prefixlen", 0)));
    }
  }
  return state;
}

}  // namespace

std::string NetnsName(std::string_view netns) {
  constexpr std::string_view kDir = "/run/netns/";
  if (netns.starts_with(kDir)) return std::string(netns.substr(kDir.size()));
  return std::string(netns);
}

absl::StatusOr<CommandOutput> RunInNetns(std::string_view netns,
                                         const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip", "netns", "exec", NetnsName(netns)};
  full.insert(full.end(), argv.begin(), argv.end());
  return Run(full);
}

absl::StatusOr<std::vector<InterfaceState>> ReadInterfaces(std::string_view netns) {
  auto out = Run({"ip", "-n", NetnsName(netns), "-j", "-d", "addr", "show"});
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) {
    return absl::UnavailableError(
        Cat("ip -n ", NetnsName(netns), " addr show: exit ", out->exit_code, ": ", out->output));
  }
  const nlohmann::json links = nlohmann::json::parse(out->output, nullptr, false);
  if (links.is_discarded() || !links.is_array()) {
    return absl::InternalError(Cat("ip -j addr show printed no JSON array: ", out->output));
  }
  std::vector<InterfaceState> states;
  for (const nlohmann::json& link : links) states.push_back(ParseInterface(link));
  return states;
}

absl::StatusOr<std::optional<InterfaceState>> ReadInterface(std::string_view netns,
                                                            std::string_view name) {
  auto all = ReadInterfaces(netns);
  if (!all.ok()) return all.status();
  for (InterfaceState& state : *all) {
    if (state.name == name) return std::optional<InterfaceState>(std::move(state));
  }
  return std::optional<InterfaceState>();
}

absl::StatusOr<std::vector<std::string>> ReadRoutes(std::string_view netns) {
  auto out = Run({"ip", "-n", NetnsName(netns), "-j", "route", "show"});
  if (!out.ok()) return out.status();
  if (out->exit_code != 0) {
    return absl::UnavailableError(
        Cat("ip -n ", NetnsName(netns), " route show: exit ", out->exit_code, ": ", out->output));
  }
  const nlohmann::json routes = nlohmann::json::parse(out->output, nullptr, false);
  if (routes.is_discarded() || !routes.is_array()) {
    return absl::InternalError(Cat("ip -j route show printed no JSON array: ", out->output));
  }
  std::vector<std::string> lines;
  for (const nlohmann::json& route : routes) {
    lines.push_back(Cat(route.value("dst", ""), " dev ", route.value("dev", "")));
  }
  return lines;
}

namespace {

// The counts of ping's summary line, "<n> packets transmitted, <m> [packets ]received" (iputils
// and busybox); nullopt when there is none.
std::optional<std::pair<int, int>> ParsePingSummary(const std::string& output) {
  const size_t transmitted = output.find(" packets transmitted, ");
  if (transmitted == std::string::npos) return std::nullopt;
  size_t start = transmitted;
  while (start > 0 && std::isdigit(static_cast<unsigned char>(output[start - 1])) != 0) --start;
  const size_t received_at = transmitted + std::string_view(" packets transmitted, ").size();
  size_t end = received_at;
  while (end < output.size() && std::isdigit(static_cast<unsigned char>(output[end])) != 0) ++end;
  if (start == transmitted || end == received_at) return std::nullopt;
  const std::string_view rest = std::string_view(output).substr(end);
  if (!rest.starts_with(" received") && !rest.starts_with(" packets received")) return std::nullopt;
  return std::make_pair(std::stoi(output.substr(start, transmitted - start)),
                        std::stoi(output.substr(received_at, end - received_at)));
}

}  // namespace

absl::StatusOr<PingResult> Ping(std::string_view netns, std::string_view address, int count,
                                absl::Duration wait) {
  const int wait_seconds = std::max<int>(1, static_cast<int>(absl::ToInt64Seconds(wait)));
  auto out = RunInNetns(netns, {"ping", "-n", "-c", std::to_string(count), "-i", "0.2", "-W",
                                std::to_string(wait_seconds), std::string(address)});
  if (!out.ok()) return out.status();
  PingResult result;
  result.output = out->output;
  if (auto counts = ParsePingSummary(result.output)) {
    result.sent = counts->first;
    result.received = counts->second;
  } else if (out->exit_code == 127) {
    return absl::NotFoundError(Cat("ping is not installed: ", out->output));
  }
  return result;
}

absl::StatusOr<PingResult> PingUntilReply(std::string_view netns, std::string_view address,
                                          absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  PingResult last;
  do {
    auto result = Ping(netns, address, 2, absl::Seconds(1));
    if (!result.ok()) return result.status();
    last = *std::move(result);
    if (last.ok()) return last;
  } while (absl::Now() < until);
  return last;
}

absl::StatusOr<CaseCapture> StartCapture(CaseContext& context, std::string_view netns,
                                         std::string_view interface, std::string_view filter,
                                         std::string_view file_name, std::string_view description) {
  auto path = context.evidence().NewFile(EvidenceKind::kPcap, file_name, description);
  if (!path.ok()) return path.status();
  pcap::CaptureOptions options;
  options.interface = std::string(interface);
  options.filter = std::string(filter);
  options.pcap_path = path->string();
  auto capture = pcap::Capture::Start(pcap::NetnsRef::Named(NetnsName(netns)), options);
  if (!capture.ok()) return capture.status();
  CaseCapture out;
  out.capture = *std::move(capture);
  out.verifier = std::make_unique<pcap::PacketVerifier>(out.capture.get());
  return out;
}

}  // namespace nsmcert::conformance::nsm_cases
