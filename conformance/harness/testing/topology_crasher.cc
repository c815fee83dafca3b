// A harness run that dies on purpose, for the harness's crash and interrupt tests.
//
//   topology_crasher <topology.yaml> <health_server binary> <work dir> abort|wait [<run id>]
//
// Builds the topology, starts <health_server> in the first node (unix socket in <work dir>), waits
// until it is healthy, prints "ready run=<run id> daemon=<pid>", and waits for a signal. In abort
// mode SIGUSR1 makes it abort() (no cleanup handler runs: leftovers for the sweep); in wait mode
// SIGTERM/SIGINT/SIGHUP exercise the emergency cleanup and SIGKILL leaves leftovers.
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "conformance/harness/process.h"
#include "conformance/harness/topology.h"

int main(int argc, char** argv) {
  using namespace nsmcert::harness;
  if (argc < 5 || argc > 6 ||
      (std::string_view(argv[4]) != "abort" && std::string_view(argv[4]) != "wait")) {
    std::cerr << "usage: topology_crasher <topology.yaml> <health_server> <work dir> abort|wait "
                 "[<run id>]\n";
    return 2;
  }
  TopologyOptions topology_options;
  if (argc == 6) {
    auto run_id = RunId::Parse(argv[5]);
    if (!run_id.ok()) {
      std::cerr << run_id.status() << "\n";
      return 2;
    }
    topology_options.run_id = *run_id;
  }
  const std::string work_dir = argv[3];
  // Blocked before any thread starts, so sigwait() below is the only taker.
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  auto spec = LoadTopologyFile(argv[1]);
  if (!spec.ok()) {
    std::cerr << spec.status() << "\n";
    return 1;
  }
  auto topology = Topology::Build(*spec, topology_options);
  if (!topology.ok()) {
    std::cerr << topology.status() << "\n";
    return 1;
  }
  Supervisor::Options options;
  options.log_dir = work_dir + "/crasher-logs";
  auto supervisor = Supervisor::Create(options);
  if (!supervisor.ok()) {
    std::cerr << supervisor.status() << "\n";
    return 1;
  }
  const BuiltNode& node = (*topology)->nodes().front();
  const std::string url = "unix://" + work_dir + "/crasher-daemon.sock";
  ProcessSpec daemon;
  daemon.name = "daemon";
  daemon.argv = {argv[2], "--listen=" + url};
  daemon.netns_path = node.netns.path;
  auto process = (*supervisor)->Start(daemon);
  if (!process.ok()) {
    std::cerr << process.status() << "\n";
    return 1;
  }
  if (absl::Status healthy = (*process)->WaitHealthy({url, ""}, {}, absl::Seconds(20));
      !healthy.ok()) {
    std::cerr << healthy << "\n";
    return 1;
  }
  std::cout << "ready run=" << (*topology)->run_id().str() << " daemon=" << (*process)->pid()
            << std::endl;
  if (std::string_view(argv[4]) == "abort") {
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    int signal = 0;
    sigwait(&usr1, &signal);
    std::abort();
  }
  while (true) pause();
}
