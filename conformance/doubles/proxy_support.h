// What every faulty double shares: it serves in front of a reference daemon (its backend, a child
// process), forwards each call with the NSM metadata, and serves gRPC health once the backend is
// healthy. The doubles differ only in the fault they apply to what passes through.
#ifndef NSMCERT_CONFORMANCE_DOUBLES_PROXY_SUPPORT_H_
#define NSMCERT_CONFORMANCE_DOUBLES_PROXY_SUPPORT_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpc_health.grpc.pb.h"
#include "registry.grpc.pb.h"

namespace nsmcert::doubles {

// A double's command line: `--option value` pairs (options named by the double) and repeatable
// `--fault NAME` (NAME one of the double's faults, or "none").
struct DoubleArgs {
  std::map<std::string, std::string> values;  // "--listen" -> its value
  std::set<std::string> faults;               // without "none"
};
// Parses argv[1..]. Every option in `required` must be given; `optional` ones may be. An
// INVALID_ARGUMENT error names what is wrong: "--x needs a value", "unknown option --y",
// "unknown fault \"z\"", "--a, --b and --c are required".
absl::StatusOr<DoubleArgs> ParseDoubleArgs(int argc, const char* const* argv,
                                           const std::vector<std::string>& required,
                                           const std::vector<std::string>& optional,
                                           const std::set<std::string>& known_faults);

// Blocks SIGTERM and SIGINT in the calling thread (threads started later inherit the mask), so that
// the main thread takes them with WaitForStopSignal. Call first thing in main.
void BlockStopSignals();
// Waits for SIGTERM or SIGINT (blocked by BlockStopSignals) and returns it.
int WaitForStopSignal();

// The gRPC target of an NSM URL: unix URLs verbatim, tcp://host:port -> host:port.
std::string GrpcTarget(const std::string& url);
// True for unix:///path and tcp://host:port, the URLs the doubles accept.
bool IsServingUrl(const std::string& url);

// A client call made on behalf of `server`: its deadline and cancellation propagate, and the NSM
// metadata (per-RPC token, its expiry, `path`; spec §2.3, §8.5) is copied.
std::unique_ptr<grpc::ClientContext> ForwardedCall(const grpc::ServerContext& server);
// The backend's `path` response header goes back to the caller.
void ReturnPathHeader(const grpc::ClientContext& backend, grpc::ServerContext& server);

// Forwards a unary call: `call(backend_context)` makes it on a ForwardedCall of `server`, and the
// backend's `path` header goes back to the caller. Returns the backend's status.
template <class Call>
grpc::Status ForwardUnary(grpc::ServerContext& server, Call call) {
  std::unique_ptr<grpc::ClientContext> backend = ForwardedCall(server);
  grpc::Status status = call(backend.get());
  ReturnPathHeader(*backend, server);
  return status;
}

// Relays a server stream from the backend's `reader` to the caller's `writer`. `relay` sees each
// response first and may rewrite it; false drops it. When the caller has gone, the backend call is
// cancelled. Returns how the backend's stream ended.
template <class Response, class Reader, class Relay>
grpc::Status RelayStream(grpc::ClientContext& backend, Reader& reader,
                         grpc::ServerWriter<Response>& writer, Relay relay) {
  Response response;
  while (reader->Read(&response)) {
    if (!relay(response)) continue;
    if (!writer.Write(response)) {
      backend.TryCancel();
      break;
    }
  }
  return reader->Finish();
}

// The NetworkService registry forwarded to a backend as it is, but for the responses `keep`
// refuses (none when it is empty).
class NsRegistryForwarder final : public registry::NetworkServiceRegistry::Service {
 public:
  using Keep = std::function<bool(const registry::NetworkServiceResponse&)>;
  explicit NsRegistryForwarder(std::shared_ptr<grpc::Channel> backend, Keep keep = nullptr)
      : stub_(registry::NetworkServiceRegistry::NewStub(backend)), keep_(std::move(keep)) {}

  grpc::Status Register(grpc::ServerContext* context, const registry::NetworkService* ns,
                        registry::NetworkService* reply) override;
  grpc::Status Find(grpc::ServerContext* context, const registry::NetworkServiceQuery* query,
                    grpc::ServerWriter<registry::NetworkServiceResponse>* writer) override;
  grpc::Status Unregister(grpc::ServerContext* context, const registry::NetworkService* ns,
                          google::protobuf::Empty* reply) override;

 private:
  std::unique_ptr<registry::NetworkServiceRegistry::Stub> stub_;
  const Keep keep_;
};

// gRPC health for `services` (and the server as a whole, ""): NOT_SERVING until SetReady, then
// SERVING; NOT_FOUND for any other service.
class HealthService final : public grpc::health::v1::Health::Service {
 public:
  explicit HealthService(std::set<std::string> services) : services_(std::move(services)) {}
  void SetReady() { ready_ = true; }
  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;

 private:
  const std::set<std::string> services_;
  std::atomic<bool> ready_{false};
};

// The backend daemon, a child process that dies with this one (PR_SET_PDEATHSIG) and stays in its
// process group, so a supervisor that kills the group kills both. Not thread-safe.
class Backend {
 public:
  // Forks and executes `path` with this process's environment plus `env` (an empty value unsets
  // the variable). -1 from pid() when fork failed (errno says why); an exec failure shows as the
  // child's exit status 127 with a line on stderr prefixed with `tool`.
  Backend(const std::string& tool, const std::string& path,
          const std::map<std::string, std::string>& env);
  ~Backend() { Kill(); }
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  pid_t pid() const { return pid_; }
  // Probes `service`'s health at `url` until SERVING (a fresh channel per attempt, so that no
  // reconnect backoff carries over from attempts made before it listened). False when the backend
  // exited or `timeout` passed.
  bool WaitHealthy(const std::string& url, const std::string& service,
                   std::chrono::seconds timeout);
  // SIGTERM and wait for it to exit.
  void Stop();
  // SIGKILL and reap; nothing when it is gone already.
  void Kill();

 private:
  void Signal(int signal);
  pid_t pid_ = -1;
};

}  // namespace nsmcert::doubles

#endif  // NSMCERT_CONFORMANCE_DOUBLES_PROXY_SUPPORT_H_
