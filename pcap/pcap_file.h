// Reading and writing capture files through libpcap. Files are written in the classic pcap format
// (microsecond timestamps), which Wireshark, tshark and tcpdump open; reading accepts whatever
// libpcap reads (classic pcap and pcapng).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pcap/captured_packet.h"

struct pcap;
struct pcap_dumper;

namespace nsmcert::pcap {

inline constexpr int kDefaultSnapLength = 262144;  // libpcap's and tcpdump's default

// Writes packets of one link type to a new file. Not thread-safe: use it from one thread at a
// time. Errors name the file.
class PcapFileWriter {
 public:
  // Creates (or truncates) `path`.
  static absl::StatusOr<std::unique_ptr<PcapFileWriter>> Create(
      const std::string& path, int link_type, int snap_length = kDefaultSnapLength);
  ~PcapFileWriter();
  PcapFileWriter(const PcapFileWriter&) = delete;
  PcapFileWriter& operator=(const PcapFileWriter&) = delete;

  // Appends one packet; fails if its link type differs from the file's, or after Close().
  absl::Status Write(const CapturedPacket& packet);
  // Pushes buffered packets to the file so that other readers see them.
  absl::Status Flush();
  // Flushes and closes the file. Idempotent; the destructor calls it.
  absl::Status Close();

  const std::string& path() const { return path_; }
  int link_type() const { return link_type_; }

 private:
  PcapFileWriter(std::string path, int link_type, ::pcap* dead, pcap_dumper* dumper);

  std::string path_;
  int link_type_;
  ::pcap* dead_;         // owned; a handle with no device, which pcap_dump needs
  pcap_dumper* dumper_;  // owned; null after Close()
};

struct PcapFileContents {
  int link_type = kLinkTypeEthernet;
  std::vector<CapturedPacket> packets;
};

// Reads a whole capture file. Errors name the file.
absl::StatusOr<PcapFileContents> ReadPcapFile(const std::string& path);

// Writes `packets` (all of link type `link_type`) to a new file at `path`.
absl::Status WritePcapFile(const std::string& path, int link_type,
                           std::span<const CapturedPacket> packets);

}  // namespace nsmcert::pcap
