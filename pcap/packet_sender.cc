#include "pcap/packet_sender.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "pcap/str_util.h"

namespace nsmcert::pcap {
namespace {

absl::Status ErrnoError(int error, std::string_view what) {
  std::string message = internal::Cat(what, ": ", std::strerror(error));
  if (error == ENODEV || error == ENXIO || error == ENOENT) return absl::NotFoundError(message);
  if (error == EPERM || error == EACCES) return absl::PermissionDeniedError(message);
  if (error == ENETUNREACH || error == EHOSTUNREACH) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

}  // namespace

FrameSender::FrameSender(int fd, int ifindex, std::string interface)
    : fd_(fd), ifindex_(ifindex), interface_(std::move(interface)) {}

FrameSender::~FrameSender() { close(fd_); }

absl::StatusOr<std::unique_ptr<FrameSender>> FrameSender::Open(const NetnsRef& netns,
                                                               std::string_view interface) {
  const std::string name(interface);
  const std::string where = internal::Cat("frame sender on ", name, " in ", netns.ToString());
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return absl::InvalidArgumentError(internal::Cat(where, ": bad interface name"));
  }
  int fd = -1;
  int ifindex = 0;
  absl::Status status;
  absl::Status entered = RunInNetns(netns, [&] {
    // Protocol 0: the socket receives nothing, so it never fills up with traffic.
    fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      status = ErrnoError(errno, internal::Cat(where, ": socket"));
      return;
    }
    ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    if (ifindex == 0) {
      status = absl::NotFoundError(internal::Cat(where, ": no such interface"));
      return;
    }
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_ifindex = ifindex;
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      status = ErrnoError(errno, internal::Cat(where, ": bind"));
    }
  });
  if (!entered.ok())
    status = absl::Status(entered.code(), internal::Cat(where, ": ", entered.message()));
  if (!status.ok()) {
    if (fd >= 0) close(fd);
    return status;
  }
  return std::unique_ptr<FrameSender>(new FrameSender(fd, ifindex, name));
}

absl::Status FrameSender::Send(std::span<const uint8_t> frame) {
  const ssize_t sent = send(fd_, frame.data(), frame.size(), 0);
  if (sent < 0) return ErrnoError(errno, internal::Cat("sending a frame on ", interface_));
  if (static_cast<size_t>(sent) != frame.size()) {
    return absl::InternalError(internal::Cat("sending a frame on ", interface_, ": sent ", sent,
                                             " of ", frame.size(), " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<IpPacketSender>> IpPacketSender::Open(const NetnsRef& netns) {
  const std::string where = internal::Cat("IP packet sender in ", netns.ToString());
  int fd4 = -1;
  int fd6 = -1;
  absl::Status status;
  absl::Status entered = RunInNetns(netns, [&] {
    // IPPROTO_RAW sockets send only, with the IP header supplied by the caller (for IPv6 this
    // implies IPV6_HDRINCL since Linux 4.5).
    fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd4 < 0) {
      status = ErrnoError(errno, internal::Cat(where, ": IPv4 raw socket"));
      return;
    }
    fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
    if (fd6 < 0) status = ErrnoError(errno, internal::Cat(where, ": IPv6 raw socket"));
  });
  if (!entered.ok())
    status = absl::Status(entered.code(), internal::Cat(where, ": ", entered.message()));
  if (!status.ok()) {
    if (fd4 >= 0) close(fd4);
    if (fd6 >= 0) close(fd6);
    return status;
  }
  return std::unique_ptr<IpPacketSender>(new IpPacketSender(fd4, fd6));
}

IpPacketSender::~IpPacketSender() {
  close(fd4_);
  close(fd6_);
}

absl::Status IpPacketSender::Send(std::span<const uint8_t> packet) {
  const int version = packet.empty() ? 0 : packet[0] >> 4;
  ssize_t sent = -1;
  if (version == 4 && packet.size() >= 20) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, packet.data() + 16, 4);
    sent = sendto(fd4_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                  sizeof(to));
  } else if (version == 6 && packet.size() >= 40) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, packet.data() + 24, 16);
    sent = sendto(fd6_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to),
                  sizeof(to));
  } else {
    return absl::InvalidArgumentError(
        internal::Cat("sending an IP packet: ", packet.size(),
                      " bytes do not start with a whole IPv4 or IPv6 header"));
  }
  if (sent < 0) return ErrnoError(errno, "sending an IP packet");
  if (static_cast<size_t>(sent) != packet.size()) {
    return absl::InternalError(
        internal::Cat("sending an IP packet: sent ", sent, " of ", packet.size(), " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace nsmcert::pcap
