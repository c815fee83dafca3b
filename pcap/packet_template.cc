#include "pcap/packet_template.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "pcap/str_util.h"

namespace nsmcert::pcap {
namespace {

constexpr std::string_view kAbsent = "(absent)";
constexpr std::string_view kPresent = "(present)";

bool MatchesPattern(std::string_view field, std::string_view pattern) {
  if (pattern.ends_with('*')) return field.starts_with(pattern.substr(0, pattern.size() - 1));
  return field == pattern;
}

}  // namespace

std::string FieldDiff::ToString() const {
  return internal::Cat(field, ": want ", want, ", got ", got);
}

PacketTemplate PacketTemplate::FromFrame(std::span<const uint8_t> frame, int link_type,
                                         const DecodeOptions& options) {
  return FromPacket(Decode(frame, link_type, options));
}

PacketTemplate PacketTemplate::FromPacket(const DecodedPacket& packet) {
  PacketTemplate result;
  for (const DecodedField& field : packet.fields()) {
    result.Set(field.name, Op::kEquals, field.value);
  }
  return result;
}

PacketTemplate& PacketTemplate::With(std::string_view field, std::string_view value) {
  absl::StatusOr<FieldValue> parsed = ParseFieldValue(field, value);
  if (!parsed.ok()) {
    Fail(parsed.status());
    return *this;
  }
  return Set(field, Op::kEquals, *std::move(parsed));
}

PacketTemplate& PacketTemplate::With(std::string_view field, uint64_t value) {
  return With(field, FieldValue::Uint(value));
}

PacketTemplate& PacketTemplate::With(std::string_view field, const FieldValue& value) {
  if (!Known(field)) return *this;
  const FieldSpec* spec = FindFieldSpec(field);
  if (spec->kind != value.kind()) {
    Fail(absl::InvalidArgumentError(internal::Cat("field '", field, "' holds a ",
                                                  FieldKindName(spec->kind), ", not a ",
                                                  FieldKindName(value.kind()))));
    return *this;
  }
  return Set(field, Op::kEquals, value);
}

PacketTemplate& PacketTemplate::Has(std::string_view field) {
  if (!Known(field)) return *this;
  return Set(field, Op::kPresent, FieldValue());
}

PacketTemplate& PacketTemplate::Lacks(std::string_view field) {
  if (!Known(field)) return *this;
  return Set(field, Op::kAbsent, FieldValue());
}

PacketTemplate& PacketTemplate::DontCare(std::string_view pattern) {
  // A plain name must be a real field, so that a typo does not silently mask nothing.
  if (!pattern.ends_with('*') && !Known(pattern)) return *this;
  std::erase_if(conditions_, [&](const Condition& c) { return MatchesPattern(c.field, pattern); });
  return *this;
}

bool PacketTemplate::Matches(const DecodedPacket& packet) const {
  if (!status_.ok()) return false;
  for (const Condition& c : conditions_) {
    const FieldValue* got = packet.Find(c.field);
    switch (c.op) {
      case Op::kEquals:
        if (got == nullptr || !(*got == c.value)) return false;
        break;
      case Op::kPresent:
        if (got == nullptr) return false;
        break;
      case Op::kAbsent:
        if (got != nullptr) return false;
        break;
    }
  }
  return true;
}

std::vector<FieldDiff> PacketTemplate::Diff(const DecodedPacket& packet) const {
  std::vector<FieldDiff> diffs;
  for (const Condition& c : conditions_) {
    const FieldValue* got = packet.Find(c.field);
    std::string got_text = got == nullptr ? std::string(kAbsent) : FormatFieldValue(c.field, *got);
    switch (c.op) {
      case Op::kEquals:
        if (got == nullptr || !(*got == c.value)) {
          diffs.push_back({c.field, FormatFieldValue(c.field, c.value), std::move(got_text)});
        }
        break;
      case Op::kPresent:
        if (got == nullptr) diffs.push_back({c.field, std::string(kPresent), std::move(got_text)});
        break;
      case Op::kAbsent:
        if (got != nullptr) diffs.push_back({c.field, std::string(kAbsent), std::move(got_text)});
        break;
    }
  }
  return diffs;
}

std::string PacketTemplate::ToString() const {
  std::vector<std::string> parts;
  for (const Condition& c : conditions_) {
    switch (c.op) {
      case Op::kEquals:
        parts.push_back(internal::Cat(c.field, " == ", FormatFieldValue(c.field, c.value)));
        break;
      case Op::kPresent:
        parts.push_back(internal::Cat("has(", c.field, ")"));
        break;
      case Op::kAbsent:
        parts.push_back(internal::Cat("lacks(", c.field, ")"));
        break;
    }
  }
  return internal::Cat("{", absl::StrJoin(parts, ", "), "}");
}

PacketTemplate& PacketTemplate::Set(std::string_view field, Op op, FieldValue value) {
  auto existing = std::find_if(conditions_.begin(), conditions_.end(),
                               [&](const Condition& c) { return c.field == field; });
  if (existing != conditions_.end()) {
    existing->op = op;
    existing->value = std::move(value);
  } else {
    conditions_.push_back(Condition{std::string(field), op, std::move(value)});
  }
  return *this;
}

bool PacketTemplate::Known(std::string_view field) {
  if (FindFieldSpec(field) != nullptr) return true;
  Fail(absl::InvalidArgumentError(internal::Cat("unknown field '", field, "'")));
  return false;
}

void PacketTemplate::Fail(absl::Status status) {
  if (status_.ok()) status_ = std::move(status);
}

}  // namespace nsmcert::pcap
