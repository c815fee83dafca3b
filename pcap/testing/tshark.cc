#include "pcap/testing/tshark.h"

#include <charconv>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pcap/decoder.h"
#include "pcap/field.h"
#include "pcap/pcap_file.h"
#include "pcap/str_util.h"
#include "pcap/testing/netns_fixture.h"

namespace nsmcert::pcap::testing {
namespace {

constexpr std::string_view kComparedFields[] = {
    "eth.dst",
    "eth.src",
    "eth.type",
    "vlan.priority",
    "vlan.dei",
    "vlan.id",
    "vlan.etype",
    "arp.hw.type",
    "arp.proto.type",
    "arp.hw.size",
    "arp.proto.size",
    "arp.opcode",
    "arp.src.hw_mac",
    "arp.src.proto_ipv4",
    "arp.dst.hw_mac",
    "arp.dst.proto_ipv4",
    "ip.hdr_len",
    "ip.dsfield",
    "ip.len",
    "ip.id",
    "ip.flags",
    "ip.flags.df",
    "ip.flags.mf",
    "ip.frag_offset",
    "ip.ttl",
    "ip.proto",
    "ip.checksum",
    "ip.src",
    "ip.dst",
    "ipv6.version",
    "ipv6.tclass",
    "ipv6.flow",
    "ipv6.plen",
    "ipv6.nxt",
    "ipv6.hlim",
    "ipv6.src",
    "ipv6.dst",
    "icmp.type",
    "icmp.code",
    "icmp.checksum",
    "icmp.ident",
    "icmp.seq",
    "icmp.mtu",
    "icmpv6.type",
    "icmpv6.code",
    "icmpv6.checksum",
    "icmpv6.echo.identifier",
    "icmpv6.echo.sequence_number",
    "icmpv6.nd.ns.target_address",
    "icmpv6.nd.na.target_address",
    "udp.srcport",
    "udp.dstport",
    "udp.length",
    "udp.checksum",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.seq_raw",
    "tcp.ack_raw",
    "tcp.hdr_len",
    "tcp.flags",
    "tcp.window_size_value",
    "tcp.checksum",
    "tcp.urgent_pointer",
    "vxlan.flags",
    "vxlan.vni",
};

std::optional<uint64_t> AsNumber(std::string_view text) {
  int base = 10;
  if (text.starts_with("0x")) {
    text.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

bool SameValue(std::string_view ours, std::string_view theirs) {
  std::optional<uint64_t> a = AsNumber(ours);
  std::optional<uint64_t> b = AsNumber(theirs);
  if (a.has_value() && b.has_value()) return *a == *b;
  return absl::AsciiStrToLower(std::string(ours)) == absl::AsciiStrToLower(std::string(theirs));
}

// Our name for the second 802.1Q tag is "vlan2.*"; tshark repeats "vlan.*".
std::string TsharkName(std::string_view base) {
  if (base.starts_with("vlan2.")) return internal::Cat("vlan.", base.substr(6));
  return std::string(base);
}

}  // namespace

std::span<const std::string_view> ComparedFields() { return kComparedFields; }

absl::StatusOr<std::vector<TsharkRow>> ParseTsharkFields(std::string_view text) {
  std::vector<std::string> lines = absl::StrSplit(internal::Piece(text), '\n', absl::SkipEmpty());
  if (lines.empty()) return absl::InvalidArgumentError("tshark output has no header line");
  std::vector<std::string> header = absl::StrSplit(lines[0], '\t');
  std::vector<TsharkRow> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cells = absl::StrSplit(lines[i], '\t');
    if (cells.size() != header.size()) {
      return absl::InvalidArgumentError(internal::Cat("tshark output line ", i + 1, " has ",
                                                      cells.size(), " cells, the header ",
                                                      header.size()));
    }
    TsharkRow row;
    for (size_t c = 0; c < header.size(); ++c) {
      row[header[c]] = absl::StrSplit(cells[c], ',', absl::SkipEmpty());
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

absl::StatusOr<std::vector<TsharkRow>> RunTshark(const std::string& pcap_path,
                                                 std::span<const std::string_view> fields,
                                                 const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {
      "tshark",   "-r", pcap_path,      "-n", "-T",           "fields", "-E",
      "header=y", "-E", "separator=/t", "-E", "occurrence=a", "-E",     "aggregator=,"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  for (std::string_view field : fields) {
    argv.push_back("-e");
    argv.emplace_back(field);
  }
  absl::StatusOr<std::string> output = RunCommand(argv, /*keep_stderr=*/false);
  if (!output.ok()) return output.status();
  return ParseTsharkFields(*output);
}

std::vector<std::string> CompareWithTshark(const DecodedPacket& ours, const TsharkRow& theirs) {
  std::vector<std::string> mismatches;
  for (const auto& [name, their_values] : theirs) {
    std::vector<std::string> our_values;
    for (const DecodedField& field : ours.fields()) {
      if (TsharkName(BaseFieldName(field.name)) == name) {
        our_values.push_back(FormatFieldValue(field.name, field.value));
      }
    }
    bool same = our_values.size() == their_values.size();
    for (size_t i = 0; same && i < our_values.size(); ++i) {
      same = SameValue(our_values[i], their_values[i]);
    }
    if (!same) {
      mismatches.push_back(internal::Cat(name, ": ours [", absl::StrJoin(our_values, ","),
                                         "] tshark [", absl::StrJoin(their_values, ","), "]"));
    }
  }
  return mismatches;
}

}  // namespace nsmcert::pcap::testing

namespace nsmcert::pcap::testing {

absl::StatusOr<size_t> CompareFileWithTshark(const std::string& pcap_path) {
  absl::StatusOr<PcapFileContents> file = ReadPcapFile(pcap_path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::vector<TsharkRow>> rows = RunTshark(pcap_path, ComparedFields());
  if (!rows.ok()) return rows.status();
  if (rows->size() != file->packets.size()) {
    return absl::InternalError(internal::Cat(pcap_path, ": tshark read ", rows->size(),
                                             " packets, we read ", file->packets.size()));
  }
  std::string report;
  for (size_t i = 0; i < rows->size(); ++i) {
    const CapturedPacket& packet = file->packets[i];
    const DecodedPacket decoded = Decode(packet.data, packet.link_type);
    std::vector<std::string> mismatches = CompareWithTshark(decoded, (*rows)[i]);
    if (mismatches.empty()) continue;
    internal::Append(&report, "packet ", i + 1, " (", decoded.Summary(), "):\n  ",
                     absl::StrJoin(mismatches, "\n  "), "\n");
  }
  if (!report.empty()) {
    return absl::InternalError(internal::Cat(pcap_path, " disagrees with tshark:\n", report));
  }
  return rows->size();
}

bool HaveTshark() { return RunCommand({"tshark", "--version"}, false).ok(); }

}  // namespace nsmcert::pcap::testing
