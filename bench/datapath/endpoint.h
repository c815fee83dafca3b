// One end of a path under test: the namespace a workload runs in and the address it uses there.
#ifndef NSMCERT_BENCH_DATAPATH_ENDPOINT_H_
#define NSMCERT_BENCH_DATAPATH_ENDPOINT_H_

#include <string>

#include "reference/kernel/netns.h"

namespace nsmcert::bench {

struct Endpoint {
  // Not owned: the path that made the endpoint keeps the namespace open while it is set up.
  const kernel::NetNs* ns = nullptr;
  std::string netns_name;  // for logs and for tools spawned by name; may be empty
  std::string ip;          // the workload's address on the path, without prefix length
};

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_ENDPOINT_H_
