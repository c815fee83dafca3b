// Test-only: run tshark on a capture file and compare its fields with our decoder's.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "pcap/decoded_packet.h"

namespace nsmcert::pcap::testing {

// The fields compared with tshark: every field our decoder emits that tshark dissects the same
// way. Left out: data.*, which tshark splits differently (ping's timestamp); sll.*; ip.version,
// which tshark also emits for IPv6 headers.
std::span<const std::string_view> ComparedFields();

// One packet of `tshark -T fields` output: field name -> its occurrences, outermost first.
using TsharkRow = std::map<std::string, std::vector<std::string>, std::less<>>;

// Parses tab-separated `tshark -T fields -E header=y -E occurrence=a -E aggregator=,` output.
absl::StatusOr<std::vector<TsharkRow>> ParseTsharkFields(std::string_view text);

// Runs tshark on `pcap_path` for `fields` (plus `extra_args`, e.g. "-o ip.check_checksum:TRUE")
// and parses its output.
absl::StatusOr<std::vector<TsharkRow>> RunTshark(const std::string& pcap_path,
                                                 std::span<const std::string_view> fields,
                                                 const std::vector<std::string>& extra_args = {});

// The fields of `theirs` where our decode disagrees, one line each:
// "ip.ttl: ours [64] tshark [63]". Numbers compare by value (tshark prints some in hex). Our
// fields count as occurrences of tshark's field by their base name (nesting prefixes dropped),
// and the second VLAN tag's "vlan2.*" as further occurrences of "vlan.*".
std::vector<std::string> CompareWithTshark(const DecodedPacket& ours, const TsharkRow& theirs);

// Decodes every packet of a capture file and compares it with tshark on ComparedFields(). Returns
// the number of packets compared, or an error listing every disagreement (packet number, our
// summary, the fields) or a different packet count.
absl::StatusOr<size_t> CompareFileWithTshark(const std::string& pcap_path);

// True when a tshark binary is on PATH (tests that need it skip otherwise).
bool HaveTshark();

}  // namespace nsmcert::pcap::testing
