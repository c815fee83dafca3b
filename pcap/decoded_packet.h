// The result of decoding one frame: its layers, their named fields, and notes about anything
// malformed or truncated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pcap/field.h"

namespace nsmcert::pcap {

// One named field of a decoded packet. `name` carries the nesting prefix ("inner.ip.src").
struct DecodedField {
  std::string name;
  FieldValue value;
};

// One decoded protocol header, e.g. "eth", "ip", "inner.udp", "data".
struct DecodedLayer {
  std::string name;
  size_t offset = 0;  // where the layer starts in the frame
  size_t length = 0;  // bytes of the layer present in the frame (header, or payload for "data")
};

// A decoded frame. Fields appear in wire order: outer layers first, then nested ones, so a field
// name that occurs at several nesting levels lists its values outermost first.
//
// A decode never fails as a whole: a truncated or malformed frame yields the layers that could be
// read and a note in `errors()` saying where decoding stopped and why.
class DecodedPacket {
 public:
  const std::vector<DecodedLayer>& layers() const { return layers_; }
  const std::vector<DecodedField>& fields() const { return fields_; }
  const std::vector<std::string>& errors() const { return errors_; }
  bool complete() const { return errors_.empty(); }

  // The first field called `name`, or nullptr.
  const FieldValue* Find(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  // The number of field `name`, or `fallback` when it is absent or not a number.
  uint64_t GetUint(std::string_view name, uint64_t fallback = 0) const;
  // The text of field `name` as FormatFieldValue shows it, or "" when absent.
  std::string GetString(std::string_view name) const;
  bool HasLayer(std::string_view name) const;

  // One line for logs and failure messages, e.g.
  // "eth 02:..:01 > 02:..:02 | ip 10.0.0.1 > 10.0.0.2 ttl 64 | icmp 8/0 id 7 seq 1 | 56 bytes".
  std::string Summary() const;
  // Every field on its own line ("ip.ttl = 64"), then the error notes.
  std::string ToString() const;

  // Used by the decoder to build the packet.
  void AddLayer(std::string name, size_t offset, size_t length);
  void AddField(std::string name, FieldValue value);
  void AddError(std::string note);

 private:
  std::vector<DecodedLayer> layers_;
  std::vector<DecodedField> fields_;
  std::vector<std::string> errors_;
};

}  // namespace nsmcert::pcap
