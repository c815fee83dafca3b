#include "pcap/decoded_packet.h"

#include <utility>

#include "absl/strings/str_join.h"
#include "pcap/str_util.h"

namespace nsmcert::pcap {
namespace {

// One short piece per layer for Summary(); `p` is the nesting prefix of the layer.
std::string LayerSummary(const DecodedPacket& packet, std::string_view base, const std::string& p) {
  auto s = [&](std::string_view field) { return packet.GetString(internal::Cat(p, field)); };
  if (base == "eth") return internal::Cat("eth ", s("eth.src"), " > ", s("eth.dst"));
  if (base == "sll") return internal::Cat("sll ", s("sll.src.eth"), " type ", s("sll.etype"));
  if (base == "vlan") return internal::Cat("vlan ", s("vlan.id"));
  if (base == "vlan2") return internal::Cat("vlan ", s("vlan2.id"));
  if (base == "arp") {
    return internal::Cat("arp ", s("arp.opcode") == "1" ? "who-has " : "reply ",
                         s("arp.dst.proto_ipv4"), " tell ", s("arp.src.proto_ipv4"));
  }
  if (base == "ip") {
    return internal::Cat("ip ", s("ip.src"), " > ", s("ip.dst"), " ttl ", s("ip.ttl"), " proto ",
                         s("ip.proto"));
  }
  if (base == "ipv6") {
    return internal::Cat("ipv6 ", s("ipv6.src"), " > ", s("ipv6.dst"), " hlim ", s("ipv6.hlim"));
  }
  if (base == "icmp") {
    std::string out = internal::Cat("icmp ", s("icmp.type"), "/", s("icmp.code"));
    if (packet.Has(internal::Cat(p, "icmp.seq"))) {
      internal::Append(&out, " id ", s("icmp.ident"), " seq ", s("icmp.seq"));
    }
    return out;
  }
  if (base == "icmpv6") {
    std::string out = internal::Cat("icmpv6 ", s("icmpv6.type"), "/", s("icmpv6.code"));
    if (packet.Has(internal::Cat(p, "icmpv6.echo.sequence_number"))) {
      internal::Append(&out, " id ", s("icmpv6.echo.identifier"), " seq ",
                       s("icmpv6.echo.sequence_number"));
    }
    return out;
  }
  if (base == "udp") return internal::Cat("udp ", s("udp.srcport"), " > ", s("udp.dstport"));
  if (base == "tcp") {
    std::string out = internal::Cat("tcp ", s("tcp.srcport"), " > ", s("tcp.dstport"));
    if (packet.Has(internal::Cat(p, "tcp.flags")))
      internal::Append(&out, " flags ", s("tcp.flags"));
    return out;
  }
  if (base == "vxlan") return internal::Cat("vxlan vni ", s("vxlan.vni"));
  if (base == "data") return internal::Cat(s("data.len"), " bytes");
  return std::string(base);
}

}  // namespace

const FieldValue* DecodedPacket::Find(std::string_view name) const {
  for (const DecodedField& field : fields_) {
    if (field.name == name) return &field.value;
  }
  return nullptr;
}

uint64_t DecodedPacket::GetUint(std::string_view name, uint64_t fallback) const {
  const FieldValue* value = Find(name);
  if (value == nullptr || value->kind() != FieldKind::kUint) return fallback;
  return value->uint();
}

std::string DecodedPacket::GetString(std::string_view name) const {
  const FieldValue* value = Find(name);
  return value == nullptr ? "" : FormatFieldValue(name, *value);
}

bool DecodedPacket::HasLayer(std::string_view name) const {
  for (const DecodedLayer& layer : layers_) {
    if (layer.name == name) return true;
  }
  return false;
}

std::string DecodedPacket::Summary() const {
  std::vector<std::string> pieces;
  for (const DecodedLayer& layer : layers_) {
    std::string_view base = BaseFieldName(layer.name);
    std::string prefix = layer.name.substr(0, layer.name.size() - base.size());
    pieces.push_back(internal::Cat(prefix, LayerSummary(*this, base, prefix)));
  }
  if (!errors_.empty()) pieces.push_back(internal::Cat("[", absl::StrJoin(errors_, "; "), "]"));
  if (pieces.empty()) return "(empty)";
  return absl::StrJoin(pieces, " | ");
}

std::string DecodedPacket::ToString() const {
  std::string out;
  for (const DecodedField& field : fields_) {
    internal::Append(&out, field.name, " = ", FormatFieldValue(field.name, field.value), "\n");
  }
  for (const std::string& error : errors_) internal::Append(&out, "error: ", error, "\n");
  return out;
}

void DecodedPacket::AddLayer(std::string name, size_t offset, size_t length) {
  layers_.push_back(DecodedLayer{std::move(name), offset, length});
}

void DecodedPacket::AddField(std::string name, FieldValue value) {
  fields_.push_back(DecodedField{std::move(name), std::move(value)});
}

void DecodedPacket::AddError(std::string note) { errors_.push_back(std::move(note)); }

}  // namespace nsmcert::pcap
