#include "pcap/fuzz/decoder_invariants.h"

#include <set>
#include <string>

#include "pcap/decoder.h"
#include "pcap/packet_template.h"
#include "pcap/str_util.h"

namespace nsmcert::pcap {

absl::Status CheckDecoderInvariants(std::span<const uint8_t> frame, int link_type) {
  const DecodedPacket packet = Decode(frame, link_type);
  for (const DecodedLayer& layer : packet.layers()) {
    if (layer.offset > frame.size() || layer.length > frame.size() - layer.offset) {
      return absl::InternalError(internal::Cat("layer ", layer.name, " at ", layer.offset, "+",
                                               layer.length, " lies outside ", frame.size(),
                                               " bytes"));
    }
  }
  std::set<std::string> names;
  for (const DecodedField& field : packet.fields()) {
    const FieldSpec* spec = FindFieldSpec(field.name);
    if (spec == nullptr) return absl::InternalError(internal::Cat("unknown field ", field.name));
    if (spec->kind != field.value.kind()) {
      return absl::InternalError(internal::Cat("field ", field.name, " has the wrong kind"));
    }
    if (!names.insert(field.name).second) {
      return absl::InternalError(internal::Cat("field ", field.name, " appears twice"));
    }
  }
  const std::string text = packet.ToString();
  if (packet.Summary().empty()) return absl::InternalError("empty summary");
  if (Decode(frame, link_type).ToString() != text) {
    return absl::InternalError("decoding the same bytes twice differs");
  }
  if (!PacketTemplate::FromPacket(packet).Matches(packet)) {
    return absl::InternalError("a template made from the packet does not match it");
  }
  return absl::OkStatus();
}

}  // namespace nsmcert::pcap
