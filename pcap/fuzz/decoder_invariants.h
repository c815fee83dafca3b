// What must hold for the decode of any input, however malformed. Shared by the mutation test
// (pcap_decoder_fuzz_test) and the libFuzzer target.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"

namespace nsmcert::pcap {

// Decodes `frame` and checks: every layer lies inside the frame; every field is in the catalogue
// with its kind, and no field name repeats; the text forms render; decoding is deterministic; a
// template made from the packet matches it. Returns the first violation.
absl::Status CheckDecoderInvariants(std::span<const uint8_t> frame, int link_type);

}  // namespace nsmcert::pcap
