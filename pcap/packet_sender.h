// Sending crafted traffic into a network namespace through raw sockets.
//
// Each socket is opened on a thread that entered the namespace, so it stays bound to that
// namespace; sending then works from any thread. Both senders need CAP_NET_RAW in the namespace.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pcap/netns.h"

namespace nsmcert::pcap {

// Writes whole Ethernet frames onto one interface (AF_PACKET, SOCK_RAW), as if they came from the
// interface's own stack: on a veth they arrive at the peer. Thread-compatible: concurrent Send
// calls are fine, the kernel serialises them.
class FrameSender {
 public:
  // Errors: NotFound for a missing namespace or interface (the message names it).
  static absl::StatusOr<std::unique_ptr<FrameSender>> Open(const NetnsRef& netns,
                                                           std::string_view interface);
  ~FrameSender();
  FrameSender(const FrameSender&) = delete;
  FrameSender& operator=(const FrameSender&) = delete;

  // Sends one frame (destination MAC first). Errors name the interface and the errno.
  absl::Status Send(std::span<const uint8_t> frame);

  const std::string& interface() const { return interface_; }
  int ifindex() const { return ifindex_; }

 private:
  FrameSender(int fd, int ifindex, std::string interface);

  int fd_;
  int ifindex_;
  std::string interface_;
};

// Sends IP packets (IPv4 or IPv6 header included) through a namespace's routing table, with raw
// IP sockets (IPPROTO_RAW): the namespace's stack picks the interface and the link-layer header.
class IpPacketSender {
 public:
  static absl::StatusOr<std::unique_ptr<IpPacketSender>> Open(const NetnsRef& netns);
  ~IpPacketSender();
  IpPacketSender(const IpPacketSender&) = delete;
  IpPacketSender& operator=(const IpPacketSender&) = delete;

  // Sends one packet, routed by its destination address. Errors: InvalidArgument for a packet
  // that is not a whole IPv4/IPv6 header, else the errno of sendto.
  absl::Status Send(std::span<const uint8_t> packet);

 private:
  IpPacketSender(int fd4, int fd6) : fd4_(fd4), fd6_(fd6) {}

  int fd4_;
  int fd6_;
};

}  // namespace nsmcert::pcap
