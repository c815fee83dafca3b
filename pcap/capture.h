// Live capture on one interface inside a network namespace, with libpcap.
//
//   auto capture = Capture::Start(NetnsRef::Named("ns-a"),
//                                 {.interface = "veth0", .filter = "icmp", .pcap_path = path});
//   ... stimulus ...
//   PacketVerifier verify(capture->get());
//   ...
//   absl::Status done = (*capture)->Stop();
//
// The pcap handle is opened on the capture's own thread after that thread entered the namespace;
// the handle stays bound to it. Packets go to memory (NextPacket, Packets) and, when a path is
// given, to a classic pcap file that Wireshark and tshark open, flushed after every batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "pcap/captured_packet.h"
#include "pcap/netns.h"
#include "pcap/packet_source.h"
#include "pcap/pcap_file.h"

struct pcap;
struct pcap_pkthdr;

namespace nsmcert::pcap {

struct CaptureOptions {
  // The interface, as named inside the namespace. "any" captures every interface of the namespace
  // with Linux cooked headers (kLinkTypeLinuxSll) instead of Ethernet.
  std::string interface = {};
  // A BPF filter in tcpdump syntax ("icmp", "udp port 4789", "vlan and arp"); empty takes all.
  std::string filter = {};
  int snap_length = kDefaultSnapLength;
  bool promiscuous = true;
  int kernel_buffer_bytes = 4 << 20;
  // When not empty, every captured packet is also written to this file.
  std::string pcap_path = {};
  // Packets beyond this many are still written to the file but not kept in memory.
  size_t max_packets_in_memory = 100000;
};

struct CaptureStats {
  uint64_t captured = 0;            // packets the filter passed
  uint64_t not_kept_in_memory = 0;  // over max_packets_in_memory
  uint64_t dropped_by_kernel = 0;   // buffer overruns; known once the capture has stopped
};

// Thread-safety: NextPacket, Packets, stats and Now may be called from any thread; Stop and the
// destructor from the owner only.
class Capture final : public PacketSource {
 public:
  // Starts capturing and returns once the capture is live: every packet that crosses the interface
  // after Start returns and passes the filter is captured. Errors: NotFound for a missing
  // namespace or interface, InvalidArgument for a bad filter, PermissionDenied without the
  // capabilities; each message names the interface, namespace or filter.
  static absl::StatusOr<std::unique_ptr<Capture>> Start(const NetnsRef& netns,
                                                        CaptureOptions options);

  ~Capture() override;  // stops
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Stops capturing, closes the handle and the file. Idempotent. Returns the first error the
  // capture met (the interface vanished, the file could not be written), else OK.
  absl::Status Stop();

  // PacketSource: the captured packets in order, each once. After the capture stopped or failed,
  // returns the remaining ones and then nullopt without waiting.
  std::optional<CapturedPacket> NextPacket(absl::Time deadline) override;
  absl::Time Now() const override;

  // A copy of every packet kept in memory so far, whether NextPacket returned it or not.
  std::vector<CapturedPacket> Packets() const;
  CaptureStats stats() const;
  // True while packets are being captured (false after Stop or a capture error).
  bool running() const;
  int link_type() const { return link_type_; }
  const CaptureOptions& options() const { return options_; }

 private:
  explicit Capture(CaptureOptions options);
  absl::Status Open(const NetnsRef& netns);  // on the capture thread
  void Loop();                               // on the capture thread
  void OnPacket(const ::pcap_pkthdr* header, const unsigned char* data);
  void Finish(absl::Status status);
  static void Dispatch(unsigned char* user, const ::pcap_pkthdr* header, const unsigned char* data);

  const CaptureOptions options_;
  int link_type_ = 0;
  int stop_fd_ = -1;                        // eventfd that wakes the capture thread to stop
  ::pcap* handle_ = nullptr;                // owned by the capture thread while it runs
  std::unique_ptr<PcapFileWriter> writer_;  // used by the capture thread only
  std::thread thread_;
  bool stopped_ = false;  // owner thread only
  absl::Status stop_status_;

  mutable absl::Mutex mu_;
  std::vector<CapturedPacket> packets_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  CaptureStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nsmcert::pcap
