#include "reference/registry/call_log.h"

#include "reference/sdk/daemon/log.h"
#include "reference/sdk/registry/traits.h"

namespace nsmcert::registryd {
namespace {

void LogResult(const std::string& service, const char* call, const std::string& name,
               const absl::Status& status, const std::string& extra = "") {
  if (status.ok()) {
    NSM_LOG(kDebug) << service << " " << call << " \"" << name << "\": ok" << extra;
  } else {
    NSM_LOG(kInfo) << service << " " << call << " \"" << name << "\": " << status << extra;
  }
}

}  // namespace

template <typename Types>
absl::StatusOr<typename Types::Resource> CallLog<Types>::Register(sdk::Context& ctx,
                                                                  Resource& resource,
                                                                  const Next& next) {
  std::string name = resource.name();
  auto result = next.Register(ctx, resource);
  LogResult(service_, "register", name, result.status());
  return result;
}

template <typename Types>
absl::Status CallLog<Types>::Find(sdk::Context& ctx, const Query& query,
                                  sdk::FindSink<Response>& sink, const Next& next) {
  size_t sent = 0;
  sdk::FunctionSink<Response> counting([&](const Response& response) {
    ++sent;
    return sink.Send(response);
  });
  const std::string& name = sdk::reg::RegistryTraits<Types>::QueryResource(query).name();
  NSM_LOG(kTrace) << service_ << " find \"" << name << "\"" << (query.watch() ? " (watch)" : "");
  absl::Status status = next.Find(ctx, query, counting);
  LogResult(service_, query.watch() ? "watch" : "find", name, status,
            ", " + std::to_string(sent) + " responses");
  return status;
}

template <typename Types>
absl::Status CallLog<Types>::Unregister(sdk::Context& ctx, Resource& resource, const Next& next) {
  std::string name = resource.name();
  absl::Status status = next.Unregister(ctx, resource);
  LogResult(service_, "unregister", name, status);
  return status;
}

template class CallLog<sdk::NseRegistryTypes>;
template class CallLog<sdk::NsRegistryTypes>;

}  // namespace nsmcert::registryd
