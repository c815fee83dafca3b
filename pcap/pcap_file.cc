#include "pcap/pcap_file.h"

#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "pcap/str_util.h"

namespace nsmcert::pcap {

PcapFileWriter::PcapFileWriter(std::string path, int link_type, ::pcap* dead, pcap_dumper* dumper)
    : path_(std::move(path)), link_type_(link_type), dead_(dead), dumper_(dumper) {}

absl::StatusOr<std::unique_ptr<PcapFileWriter>> PcapFileWriter::Create(const std::string& path,
                                                                       int link_type,
                                                                       int snap_length) {
  pcap_t* dead =
      pcap_open_dead_with_tstamp_precision(link_type, snap_length, PCAP_TSTAMP_PRECISION_MICRO);
  if (dead == nullptr) {
    return absl::InternalError(internal::Cat("pcap file ", path, ": cannot open a handle"));
  }
  pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
  if (dumper == nullptr) {
    absl::Status error =
        absl::UnavailableError(internal::Cat("pcap file ", path, ": ", pcap_geterr(dead)));
    pcap_close(dead);
    return error;
  }
  return std::unique_ptr<PcapFileWriter>(new PcapFileWriter(path, link_type, dead, dumper));
}

PcapFileWriter::~PcapFileWriter() {
  Close().IgnoreError();  // a caller who cares about the error calls Close() first
  pcap_close(dead_);
}

absl::Status PcapFileWriter::Write(const CapturedPacket& packet) {
  if (dumper_ == nullptr) {
    return absl::FailedPreconditionError(internal::Cat("pcap file ", path_, ": already closed"));
  }
  if (packet.link_type != link_type_) {
    return absl::InvalidArgumentError(internal::Cat("pcap file ", path_, ": packet of link type ",
                                                    packet.link_type, " in a file of link type ",
                                                    link_type_));
  }
  pcap_pkthdr header{};
  header.ts = absl::ToTimeval(packet.timestamp);
  header.caplen = static_cast<bpf_u_int32>(packet.data.size());
  header.len = std::max<bpf_u_int32>(packet.original_length, header.caplen);
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, packet.data.data());
  return absl::OkStatus();
}

absl::Status PcapFileWriter::Flush() {
  if (dumper_ == nullptr) return absl::OkStatus();
  if (pcap_dump_flush(dumper_) != 0 || ferror(pcap_dump_file(dumper_)) != 0) {
    return absl::DataLossError(internal::Cat("pcap file ", path_, ": write failed"));
  }
  return absl::OkStatus();
}

absl::Status PcapFileWriter::Close() {
  if (dumper_ == nullptr) return absl::OkStatus();
  absl::Status status = Flush();
  pcap_dump_close(dumper_);
  dumper_ = nullptr;
  return status;
}

absl::StatusOr<PcapFileContents> ReadPcapFile(const std::string& path) {
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, error);
  if (handle == nullptr) {
    std::string message = internal::Cat("pcap file ", path, ": ", error);
    if (access(path.c_str(), F_OK) != 0) return absl::NotFoundError(message);
    return absl::InvalidArgumentError(message);
  }
  PcapFileContents contents;
  contents.link_type = pcap_datalink(handle);
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  int result = 0;
  while ((result = pcap_next_ex(handle, &header, &data)) == 1) {
    CapturedPacket packet;
    packet.timestamp = absl::TimeFromTimeval(header->ts);
    packet.original_length = header->len;
    packet.link_type = contents.link_type;
    packet.data.assign(data, data + header->caplen);
    contents.packets.push_back(std::move(packet));
  }
  absl::Status status = absl::OkStatus();
  if (result == PCAP_ERROR) {
    status = absl::DataLossError(internal::Cat("pcap file ", path, ": ", pcap_geterr(handle)));
  }
  pcap_close(handle);
  if (!status.ok()) return status;
  return contents;
}

absl::Status WritePcapFile(const std::string& path, int link_type,
                           std::span<const CapturedPacket> packets) {
  auto writer = PcapFileWriter::Create(path, link_type);
  if (!writer.ok()) return writer.status();
  for (const CapturedPacket& packet : packets) {
    if (absl::Status status = (*writer)->Write(packet); !status.ok()) return status;
  }
  return (*writer)->Close();
}

}  // namespace nsmcert::pcap
