#include "pcap/packet_builder.h"

#include <array>
#include <utility>

#include "absl/status/status.h"
#include "pcap/checksum.h"
#include "pcap/decoder.h"
#include "pcap/field.h"
#include "pcap/str_util.h"

namespace nsmcert::pcap {
namespace {

constexpr size_t kMaxLength = 65535;

void Put8(std::vector<uint8_t>& out, uint8_t value) { out.push_back(value); }
void Put16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}
void Put32(std::vector<uint8_t>& out, uint32_t value) {
  Put16(out, static_cast<uint16_t>(value >> 16));
  Put16(out, static_cast<uint16_t>(value));
}
void PutBytes(std::vector<uint8_t>& out, std::span<const uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}
void SetU16(std::vector<uint8_t>& out, size_t at, uint16_t value) {
  out[at] = static_cast<uint8_t>(value >> 8);
  out[at + 1] = static_cast<uint8_t>(value);
}

// The addresses an upper layer's checksum covers.
struct PseudoHeader {
  bool ipv6 = false;
  std::vector<uint8_t> src;
  std::vector<uint8_t> dst;

  void AddTo(ChecksumAccumulator& sum, uint8_t protocol, size_t length) const {
    sum.Add(src);
    sum.Add(dst);
    if (ipv6) {
      sum.AddU32(static_cast<uint32_t>(length));
      sum.AddU32(protocol);
    } else {
      sum.AddU16(protocol);
      sum.AddU16(static_cast<uint16_t>(length));
    }
  }
};

}  // namespace

// Serializes the layers innermost first, so that every header knows the bytes it carries.
class FrameSerializer {
 public:
  using Layer = PacketBuilder::Layer;
  explicit FrameSerializer(const std::vector<Layer>& layers) : layers_(layers) {}

  absl::StatusOr<std::vector<uint8_t>> Run() {
    std::vector<uint8_t> bytes;
    for (size_t i = layers_.size(); i-- > 0;) {
      index_ = i;
      absl::StatusOr<std::vector<uint8_t>> wrapped =
          std::visit([&](const auto& spec) { return Serialize(spec, bytes); }, layers_[i]);
      if (!wrapped.ok()) return wrapped.status();
      bytes = *std::move(wrapped);
    }
    return bytes;
  }

 private:
  using Result = absl::StatusOr<std::vector<uint8_t>>;

  Result Serialize(const EthernetSpec& spec, const std::vector<uint8_t>& payload) {
    auto dst = ParseMac(spec.dst);
    if (!dst.ok()) return Error("dst", dst.status().message());
    auto src = ParseMac(spec.src);
    if (!src.ok()) return Error("src", src.status().message());
    auto type = spec.type.has_value() ? absl::StatusOr<uint16_t>(*spec.type) : NextEtherType();
    if (!type.ok()) return type.status();
    std::vector<uint8_t> out;
    PutBytes(out, *dst);
    PutBytes(out, *src);
    Put16(out, *type);
    PutBytes(out, payload);
    return out;
  }

  Result Serialize(const VlanSpec& spec, const std::vector<uint8_t>& payload) {
    if (spec.id > 0x0fff) return Error("id", internal::Cat(spec.id, " is over 4095"));
    if (spec.priority > 7) return Error("priority", internal::Cat(spec.priority, " is over 7"));
    auto type = spec.type.has_value() ? absl::StatusOr<uint16_t>(*spec.type) : NextEtherType();
    if (!type.ok()) return type.status();
    std::vector<uint8_t> out;
    Put16(out, static_cast<uint16_t>(spec.priority << 13 | (spec.dei ? 1 : 0) << 12 | spec.id));
    Put16(out, *type);
    PutBytes(out, payload);
    return out;
  }

  Result Serialize(const ArpSpec& spec, const std::vector<uint8_t>& payload) {
    auto sender_mac = ParseMac(spec.sender_mac);
    if (!sender_mac.ok()) return Error("sender_mac", sender_mac.status().message());
    auto sender_ip = ParseIpv4(spec.sender_ip);
    if (!sender_ip.ok()) return Error("sender_ip", sender_ip.status().message());
    auto target_mac = ParseMac(spec.target_mac);
    if (!target_mac.ok()) return Error("target_mac", target_mac.status().message());
    auto target_ip = ParseIpv4(spec.target_ip);
    if (!target_ip.ok()) return Error("target_ip", target_ip.status().message());
    std::vector<uint8_t> out;
    Put16(out, 1);       // Ethernet
    Put16(out, 0x0800);  // IPv4
    Put8(out, 6);
    Put8(out, 4);
    Put16(out, spec.opcode);
    PutBytes(out, *sender_mac);
    PutBytes(out, *sender_ip);
    PutBytes(out, *target_mac);
    PutBytes(out, *target_ip);
    PutBytes(out, payload);
    return out;
  }

  Result Serialize(const Ipv4Spec& spec, const std::vector<uint8_t>& payload) {
    auto src = ParseIpv4(spec.src);
    if (!src.ok()) return Error("src", src.status().message());
    auto dst = ParseIpv4(spec.dst);
    if (!dst.ok()) return Error("dst", dst.status().message());
    if (spec.fragment_offset % 8 != 0 || spec.fragment_offset / 8 > 0x1fff) {
      return Error("fragment_offset",
                   internal::Cat(spec.fragment_offset, " is not a multiple of 8 below 65536"));
    }
    if (payload.size() + 20 > kMaxLength) return Error("total_length", "payload too large");
    auto protocol =
        spec.protocol.has_value() ? absl::StatusOr<uint8_t>(*spec.protocol) : NextProtocol();
    if (!protocol.ok()) return protocol.status();
    std::vector<uint8_t> out;
    Put8(out, 0x45);
    Put8(out, spec.dsfield);
    Put16(out, spec.total_length.value_or(static_cast<uint16_t>(20 + payload.size())));
    Put16(out, spec.id);
    Put16(out,
          static_cast<uint16_t>((spec.dont_fragment ? 0x4000 : 0) |
                                (spec.more_fragments ? 0x2000 : 0) | spec.fragment_offset / 8));
    Put8(out, spec.ttl);
    Put8(out, *protocol);
    Put16(out, 0);
    PutBytes(out, *src);
    PutBytes(out, *dst);
    SetU16(out, 10, spec.checksum.value_or(InternetChecksum(out)));
    PutBytes(out, payload);
    return out;
  }

  Result Serialize(const Ipv6Spec& spec, const std::vector<uint8_t>& payload) {
    auto src = ParseIpv6(spec.src);
    if (!src.ok()) return Error("src", src.status().message());
    auto dst = ParseIpv6(spec.dst);
    if (!dst.ok()) return Error("dst", dst.status().message());
    if (spec.flow_label > 0xfffff) return Error("flow_label", "over 20 bits");
    if (payload.size() > kMaxLength) return Error("payload_length", "payload too large");
    auto next =
        spec.next_header.has_value() ? absl::StatusOr<uint8_t>(*spec.next_header) : NextProtocol();
    if (!next.ok()) return next.status();
    std::vector<uint8_t> out;
    Put32(out, 6u << 28 | static_cast<uint32_t>(spec.traffic_class) << 20 | spec.flow_label);
    Put16(out, spec.payload_length.value_or(static_cast<uint16_t>(payload.size())));
    Put8(out, *next);
    Put8(out, spec.hop_limit);
    PutBytes(out, *src);
    PutBytes(out, *dst);
    PutBytes(out, payload);
    return out;
  }

  Result Serialize(const IcmpSpec& spec, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> out;
    Put8(out, spec.type);
    Put8(out, spec.code);
    Put16(out, 0);
    Put16(out, spec.ident);
    Put16(out, spec.seq);
    PutBytes(out, payload);
    SetU16(out, 2, spec.checksum.value_or(InternetChecksum(out)));
    return out;
  }

  Result Serialize(const Icmpv6Spec& spec, const std::vector<uint8_t>& payload) {
    auto pseudo = Pseudo(/*ipv6_only=*/true);
    if (!pseudo.ok()) return pseudo.status();
    std::vector<uint8_t> out;
    Put8(out, spec.type);
    Put8(out, spec.code);
    Put16(out, 0);
    Put16(out, spec.ident);
    Put16(out, spec.seq);
    PutBytes(out, payload);
    ChecksumAccumulator sum;
    pseudo->AddTo(sum, 58, out.size());
    sum.Add(out);
    SetU16(out, 2, spec.checksum.value_or(sum.Finish()));
    return out;
  }

  Result Serialize(const UdpSpec& spec, const std::vector<uint8_t>& payload) {
    auto pseudo = Pseudo(/*ipv6_only=*/false);
    if (!pseudo.ok()) return pseudo.status();
    if (payload.size() + 8 > kMaxLength) return Error("length", "payload too large");
    uint16_t dst_port = spec.dst_port;
    if (dst_port == 0 && NextIs<VxlanSpec>()) dst_port = kVxlanPort;
    const uint16_t length = static_cast<uint16_t>(8 + payload.size());
    std::vector<uint8_t> out;
    Put16(out, spec.src_port);
    Put16(out, dst_port);
    Put16(out, spec.length.value_or(length));
    Put16(out, 0);
    PutBytes(out, payload);
    ChecksumAccumulator sum;
    pseudo->AddTo(sum, 17, length);
    sum.Add(out);
    const uint16_t computed = sum.Finish();
    // 0 means "no checksum" in UDP, so a computed 0 is sent as its one's complement twin.
    SetU16(out, 6, spec.checksum.value_or(computed == 0 ? 0xffff : computed));
    return out;
  }

  Result Serialize(const TcpSpec& spec, const std::vector<uint8_t>& payload) {
    auto pseudo = Pseudo(/*ipv6_only=*/false);
    if (!pseudo.ok()) return pseudo.status();
    if (spec.flags > 0x0fff) return Error("flags", "over 12 bits");
    if (payload.size() + 20 > kMaxLength) return Error("payload", "too large");
    std::vector<uint8_t> out;
    Put16(out, spec.src_port);
    Put16(out, spec.dst_port);
    Put32(out, spec.seq);
    Put32(out, spec.ack);
    Put16(out, static_cast<uint16_t>(5 << 12 | spec.flags));
    Put16(out, spec.window);
    Put16(out, 0);
    Put16(out, spec.urgent_pointer);
    PutBytes(out, payload);
    ChecksumAccumulator sum;
    pseudo->AddTo(sum, 6, out.size());
    sum.Add(out);
    SetU16(out, 16, spec.checksum.value_or(sum.Finish()));
    return out;
  }

  Result Serialize(const VxlanSpec& spec, const std::vector<uint8_t>& payload) {
    if (spec.vni > 0xffffff) return Error("vni", internal::Cat(spec.vni, " is over 24 bits"));
    std::vector<uint8_t> out;
    Put16(out, spec.flags);
    Put16(out, 0);
    Put32(out, spec.vni << 8);
    PutBytes(out, payload);
    return out;
  }

  Result Serialize(const PacketBuilder::PayloadSpec& spec, const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> out = spec.bytes;
    PutBytes(out, payload);
    return out;
  }

  template <typename T>
  bool NextIs() const {
    return index_ + 1 < layers_.size() && std::holds_alternative<T>(layers_[index_ + 1]);
  }

  absl::StatusOr<uint16_t> NextEtherType() const {
    if (NextIs<VlanSpec>()) return 0x8100;
    if (NextIs<ArpSpec>()) return 0x0806;
    if (NextIs<Ipv4Spec>()) return 0x0800;
    if (NextIs<Ipv6Spec>()) return 0x86dd;
    return Error("type", "the next layer implies no EtherType; set it");
  }

  absl::StatusOr<uint8_t> NextProtocol() const {
    if (NextIs<IcmpSpec>()) return 1;
    if (NextIs<Ipv4Spec>()) return 4;
    if (NextIs<TcpSpec>()) return 6;
    if (NextIs<UdpSpec>()) return 17;
    if (NextIs<Ipv6Spec>()) return 41;
    if (NextIs<Icmpv6Spec>()) return 58;
    return Error("protocol", "the next layer implies no IP protocol; set it");
  }

  // The addresses of the IP layer right before this one.
  absl::StatusOr<PseudoHeader> Pseudo(bool ipv6_only) const {
    const Layer* previous = index_ > 0 ? &layers_[index_ - 1] : nullptr;
    PseudoHeader pseudo;
    if (const auto* ip = previous ? std::get_if<Ipv6Spec>(previous) : nullptr) {
      auto src = ParseIpv6(ip->src);
      auto dst = ParseIpv6(ip->dst);
      if (!src.ok() || !dst.ok()) return Error("", "the IPv6 layer before it has a bad address");
      pseudo.ipv6 = true;
      pseudo.src.assign(src->begin(), src->end());
      pseudo.dst.assign(dst->begin(), dst->end());
      return pseudo;
    }
    const auto* ip = previous != nullptr ? std::get_if<Ipv4Spec>(previous) : nullptr;
    if (ip == nullptr || ipv6_only) {
      return Error("", ipv6_only ? "must come right after an IPv6 layer"
                                 : "must come right after an IPv4 or IPv6 layer");
    }
    auto src = ParseIpv4(ip->src);
    auto dst = ParseIpv4(ip->dst);
    if (!src.ok() || !dst.ok()) return Error("", "the IPv4 layer before it has a bad address");
    pseudo.src.assign(src->begin(), src->end());
    pseudo.dst.assign(dst->begin(), dst->end());
    return pseudo;
  }

  absl::Status Error(std::string_view field, absl::string_view message) const {
    static constexpr std::string_view kNames[] = {"ethernet", "vlan",  "arp",    "ipv4",
                                                  "ipv6",     "icmp",  "icmpv6", "udp",
                                                  "tcp",      "vxlan", "payload"};
    std::string where =
        internal::Cat("layer ", index_ + 1, " (", kNames[layers_[index_].index()], ")");
    if (!field.empty()) internal::Append(&where, ".", field);
    return absl::InvalidArgumentError(internal::Cat(where, ": ", message));
  }

  const std::vector<Layer>& layers_;
  size_t index_ = 0;
};

PacketBuilder& PacketBuilder::Ethernet(EthernetSpec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Vlan(VlanSpec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Arp(ArpSpec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Ipv4(Ipv4Spec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Ipv6(Ipv6Spec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Icmp(IcmpSpec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Icmpv6(Icmpv6Spec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Udp(UdpSpec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Tcp(TcpSpec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Vxlan(VxlanSpec spec) {
  layers_.emplace_back(std::move(spec));
  return *this;
}
PacketBuilder& PacketBuilder::Payload(std::span<const uint8_t> bytes) {
  layers_.emplace_back(PayloadSpec{std::vector<uint8_t>(bytes.begin(), bytes.end())});
  return *this;
}
PacketBuilder& PacketBuilder::Payload(std::string_view text) {
  layers_.emplace_back(PayloadSpec{std::vector<uint8_t>(text.begin(), text.end())});
  return *this;
}

absl::StatusOr<std::vector<uint8_t>> PacketBuilder::Build() const {
  if (layers_.empty()) return absl::InvalidArgumentError("packet builder: no layers");
  return FrameSerializer(layers_).Run();
}

}  // namespace nsmcert::pcap
