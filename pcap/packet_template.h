// What a packet should look like: conditions on named fields, with every other field don't-care.
//
// Two ways to write one:
//   // from fields
//   PacketTemplate echo = PacketTemplate()
//       .With("ip.dst", "10.0.0.2").With("icmp.type", 8).Has("icmp.seq");
//   // from a crafted frame, masking what legitimately varies (PTF's Mask)
//   PacketTemplate same = PacketTemplate::FromFrame(frame)
//       .DontCare("eth.*").DontCare("ip.ttl").DontCare("ip.checksum");
//
// Field names are those of pcap/field.h. Builder calls never fail on the spot: the first mistake
// (unknown field, value of the wrong kind) is kept in status(), and PacketVerifier reports it.
#pragma once

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "pcap/decoded_packet.h"
#include "pcap/decoder.h"
#include "pcap/field.h"

namespace nsmcert::pcap {

// One field where a packet differs from a template. `want`/`got` are display text, with
// "(absent)" and "(present)" for conditions on presence.
struct FieldDiff {
  std::string field;
  std::string want;
  std::string got;

  std::string ToString() const;  // "ip.ttl: want 64, got 63"
  friend bool operator==(const FieldDiff&, const FieldDiff&) = default;
  friend std::ostream& operator<<(std::ostream& os, const FieldDiff& diff) {
    return os << diff.ToString();
  }
};

class PacketTemplate {
 public:
  // A template without conditions: every packet matches.
  PacketTemplate() = default;

  // A condition on every field of the decoded frame.
  static PacketTemplate FromFrame(std::span<const uint8_t> frame, int link_type = kLinkTypeEthernet,
                                  const DecodeOptions& options = {});
  static PacketTemplate FromPacket(const DecodedPacket& packet);

  // The field must be present with this value. Replaces an earlier condition on the same field.
  // The text form is parsed by the field's kind (ParseFieldValue).
  PacketTemplate& With(std::string_view field, std::string_view value);
  PacketTemplate& With(std::string_view field, uint64_t value);
  PacketTemplate& With(std::string_view field, const FieldValue& value);
  // The field must be present, with any value.
  PacketTemplate& Has(std::string_view field);
  // The field must be absent ("Lacks("vxlan.vni")": not VXLAN).
  PacketTemplate& Lacks(std::string_view field);
  // Drops the conditions on fields matching `pattern`: a field name, or a prefix ending in "*"
  // ("eth.*", "inner.*", "*").
  PacketTemplate& DontCare(std::string_view pattern);

  // OK, or the first mistake made while building the template.
  const absl::Status& status() const { return status_; }

  bool Matches(const DecodedPacket& packet) const;
  // The conditions `packet` fails, in template order; empty when it matches.
  std::vector<FieldDiff> Diff(const DecodedPacket& packet) const;
  // "{ip.dst == 10.0.0.2, icmp.type == 8, has(icmp.seq)}"
  std::string ToString() const;
  size_t size() const { return conditions_.size(); }

 private:
  enum class Op { kEquals, kPresent, kAbsent };
  struct Condition {
    std::string field;
    Op op = Op::kEquals;
    FieldValue value;
  };

  PacketTemplate& Set(std::string_view field, Op op, FieldValue value);
  bool Known(std::string_view field);
  void Fail(absl::Status status);

  std::vector<Condition> conditions_;
  absl::Status status_;
};

}  // namespace nsmcert::pcap
