// libFuzzer entry point for the decoders (built only with a compiler that supports
// -fsanitize=fuzzer). Every input is decoded as an Ethernet frame and as a Linux cooked capture;
// an invariant violation aborts, and so does any memory error under the sanitizers.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "pcap/fuzz/decoder_invariants.h"
#include "pcap/link_type.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> frame(data, size);
  for (int link_type : {nsmcert::pcap::kLinkTypeEthernet, nsmcert::pcap::kLinkTypeLinuxSll}) {
    absl::Status status = nsmcert::pcap::CheckDecoderInvariants(frame, link_type);
    if (!status.ok()) {
      std::fprintf(stderr, "decoder invariant broken: %s\n", std::string(status.message()).c_str());
      std::abort();
    }
  }
  return 0;
}
