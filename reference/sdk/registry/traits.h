// What differs between the two registry services (NetworkServiceEndpoint / NetworkService) beyond
// their message types, so that an element can be written once for both: field names for error
// messages, and how a query or a response holds its resource.
#pragma once

#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::sdk::reg {

template <typename Types>
struct RegistryTraits;

template <>
struct RegistryTraits<NseRegistryTypes> {
  using Resource = NseRegistryTypes::Resource;
  using Query = NseRegistryTypes::Query;
  using Response = NseRegistryTypes::Response;
  // The field name of the resource in queries and responses, used in error messages.
  static constexpr char kField[] = "network_service_endpoint";

  static const Resource& QueryResource(const Query& query) {
    return query.network_service_endpoint();
  }
  static const Resource& ResponseResource(const Response& response) {
    return response.network_service_endpoint();
  }
  static Response MakeResponse(const Resource& resource, bool deleted) {
    Response response;
    *response.mutable_network_service_endpoint() = resource;
    response.set_deleted(deleted);
    return response;
  }
};

template <>
struct RegistryTraits<NsRegistryTypes> {
  using Resource = NsRegistryTypes::Resource;
  using Query = NsRegistryTypes::Query;
  using Response = NsRegistryTypes::Response;
  static constexpr char kField[] = "network_service";

  static const Resource& QueryResource(const Query& query) { return query.network_service(); }
  static const Resource& ResponseResource(const Response& response) {
    return response.network_service();
  }
  static Response MakeResponse(const Resource& resource, bool deleted) {
    Response response;
    *response.mutable_network_service() = resource;
    response.set_deleted(deleted);
    return response;
  }
};

}  // namespace nsmcert::sdk::reg
