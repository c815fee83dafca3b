// Checks every message field (name, number, type, cardinality) and every RPC method path of the
// generated API against a table written from the upstream contract. A renumbered or retyped field
// or a renamed package fails here before it can break interop on the wire.
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "connection.grpc.pb.h"
#include "connectioncontext.pb.h"
#include "ipam.grpc.pb.h"
#include "networkservice.grpc.pb.h"
#include "registry.grpc.pb.h"

namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

// kind: the wire type as written in the .proto ("string", "uint32", "bool", "int32", "enum:X",
// "message:X", "map<string,string>", "map<string,X>"); repeated marks `repeated`.
struct FieldRow {
  const char* message;
  const char* field;
  int number;
  const char* kind;
  bool repeated;
};

const std::vector<FieldRow>& Fields() {
  static const std::vector<FieldRow> rows = {
      // networkservice.proto
      {"networkservice.NetworkServiceRequest", "connection", 1, "message:connection.Connection",
       false},
      {"networkservice.NetworkServiceRequest", "mechanism_preferences", 2,
       "message:connection.Mechanism", true},
      // connection.proto
      {"connection.Mechanism", "cls", 1, "string", false},
      {"connection.Mechanism", "type", 2, "string", false},
      {"connection.Mechanism", "parameters", 3, "map<string,string>", false},
      {"connection.PathSegment", "name", 1, "string", false},
      {"connection.PathSegment", "id", 2, "string", false},
      {"connection.PathSegment", "token", 3, "string", false},
      {"connection.PathSegment", "expires", 4, "message:google.protobuf.Timestamp", false},
      {"connection.PathSegment", "metrics", 5, "map<string,string>", false},
      {"connection.Path", "index", 1, "uint32", false},
      {"connection.Path", "path_segments", 2, "message:connection.PathSegment", true},
      {"connection.Connection", "id", 1, "string", false},
      {"connection.Connection", "network_service", 2, "string", false},
      {"connection.Connection", "mechanism", 3, "message:connection.Mechanism", false},
      {"connection.Connection", "context", 4, "message:connectioncontext.ConnectionContext", false},
      {"connection.Connection", "labels", 5, "map<string,string>", false},
      {"connection.Connection", "path", 6, "message:connection.Path", false},
      {"connection.Connection", "network_service_endpoint_name", 7, "string", false},
      {"connection.Connection", "payload", 8, "string", false},
      {"connection.Connection", "state", 9, "enum:connection.State", false},
      {"connection.ConnectionEvent", "type", 1, "enum:connection.ConnectionEventType", false},
      {"connection.ConnectionEvent", "connections", 2, "map<string,connection.Connection>", false},
      {"connection.MonitorScopeSelector", "path_segments", 1, "message:connection.PathSegment",
       true},
      {"connection.MonitorScopeSelector", "network_services", 2, "string", true},
      // connectioncontext.proto
      {"connectioncontext.IpNeighbor", "ip", 1, "string", false},
      {"connectioncontext.IpNeighbor", "hardware_address", 2, "string", false},
      {"connectioncontext.Route", "prefix", 1, "string", false},
      {"connectioncontext.Route", "nextHop", 2, "string", false},
      {"connectioncontext.IpFamily", "family", 1, "enum:connectioncontext.IpFamily.Family", false},
      {"connectioncontext.ExtraPrefixRequest", "addr_family", 1,
       "message:connectioncontext.IpFamily", false},
      {"connectioncontext.ExtraPrefixRequest", "prefix_len", 2, "uint32", false},
      {"connectioncontext.ExtraPrefixRequest", "required_number", 3, "uint32", false},
      {"connectioncontext.ExtraPrefixRequest", "requested_number", 4, "uint32", false},
      {"connectioncontext.PolicyRoute", "from", 1, "string", false},
      {"connectioncontext.PolicyRoute", "proto", 2, "string", false},
      {"connectioncontext.PolicyRoute", "dst_port", 3, "string", false},
      {"connectioncontext.PolicyRoute", "src_port", 4, "string", false},
      {"connectioncontext.PolicyRoute", "routes", 5, "message:connectioncontext.Route", true},
      {"connectioncontext.IPContext", "src_ip_addrs", 1, "string", true},
      {"connectioncontext.IPContext", "dst_ip_addrs", 2, "string", true},
      {"connectioncontext.IPContext", "src_ip_required", 3, "bool", false},
      {"connectioncontext.IPContext", "dst_ip_required", 4, "bool", false},
      {"connectioncontext.IPContext", "src_routes", 5, "message:connectioncontext.Route", true},
      {"connectioncontext.IPContext", "dst_routes", 6, "message:connectioncontext.Route", true},
      {"connectioncontext.IPContext", "excluded_prefixes", 7, "string", true},
      {"connectioncontext.IPContext", "ip_neighbors", 8, "message:connectioncontext.IpNeighbor",
       true},
      {"connectioncontext.IPContext", "extra_prefix_request", 9,
       "message:connectioncontext.ExtraPrefixRequest", true},
      {"connectioncontext.IPContext", "extra_prefixes", 10, "string", true},
      {"connectioncontext.IPContext", "policies", 11, "message:connectioncontext.PolicyRoute",
       true},
      {"connectioncontext.DNSConfig", "dns_server_ips", 1, "string", true},
      {"connectioncontext.DNSConfig", "search_domains", 2, "string", true},
      {"connectioncontext.DNSContext", "configs", 1, "message:connectioncontext.DNSConfig", true},
      {"connectioncontext.EthernetContext", "src_mac", 1, "string", false},
      {"connectioncontext.EthernetContext", "dst_mac", 2, "string", false},
      {"connectioncontext.EthernetContext", "vlan_tag", 3, "int32", false},
      {"connectioncontext.ConnectionContext", "ip_context", 1,
       "message:connectioncontext.IPContext", false},
      {"connectioncontext.ConnectionContext", "dns_context", 2,
       "message:connectioncontext.DNSContext", false},
      {"connectioncontext.ConnectionContext", "ethernet_context", 3,
       "message:connectioncontext.EthernetContext", false},
      {"connectioncontext.ConnectionContext", "extra_context", 4, "map<string,string>", false},
      {"connectioncontext.ConnectionContext", "MTU", 5, "uint32", false},
      // registry.proto
      {"registry.NetworkService", "name", 1, "string", false},
      {"registry.NetworkService", "payload", 2, "string", false},
      {"registry.NetworkService", "matches", 3, "message:registry.Match", true},
      {"registry.NetworkService", "path_ids", 4, "string", true},
      {"registry.Match", "source_selector", 1, "map<string,string>", false},
      {"registry.Match", "routes", 2, "message:registry.Destination", true},
      {"registry.Match", "fallthrough", 3, "bool", false},
      {"registry.Match", "metadata", 4, "message:registry.Metadata", false},
      {"registry.Metadata", "labels", 1, "map<string,string>", false},
      {"registry.Destination", "destination_selector", 1, "map<string,string>", false},
      {"registry.Destination", "weight", 2, "uint32", false},
      {"registry.NetworkServiceLabels", "labels", 1, "map<string,string>", false},
      {"registry.NetworkServiceEndpoint", "name", 1, "string", false},
      {"registry.NetworkServiceEndpoint", "network_service_names", 2, "string", true},
      {"registry.NetworkServiceEndpoint", "network_service_labels", 3,
       "map<string,registry.NetworkServiceLabels>", false},
      {"registry.NetworkServiceEndpoint", "url", 4, "string", false},
      {"registry.NetworkServiceEndpoint", "expiration_time", 5, "message:google.protobuf.Timestamp",
       false},
      {"registry.NetworkServiceEndpoint", "initial_registration_time", 6,
       "message:google.protobuf.Timestamp", false},
      {"registry.NetworkServiceEndpoint", "path_ids", 7, "string", true},
      {"registry.NetworkServiceQuery", "network_service", 1, "message:registry.NetworkService",
       false},
      {"registry.NetworkServiceQuery", "watch", 2, "bool", false},
      {"registry.NetworkServiceEndpointQuery", "network_service_endpoint", 1,
       "message:registry.NetworkServiceEndpoint", false},
      {"registry.NetworkServiceEndpointQuery", "watch", 2, "bool", false},
      {"registry.NetworkServiceResponse", "network_service", 1, "message:registry.NetworkService",
       false},
      {"registry.NetworkServiceResponse", "deleted", 2, "bool", false},
      {"registry.NetworkServiceEndpointResponse", "network_service_endpoint", 1,
       "message:registry.NetworkServiceEndpoint", false},
      {"registry.NetworkServiceEndpointResponse", "deleted", 2, "bool", false},
      // ipam.proto
      {"ipam.PrefixRequest", "type", 1, "enum:ipam.Type", false},
      {"ipam.PrefixRequest", "prefix", 2, "string", false},
      {"ipam.PrefixRequest", "exclude_prefixes", 3, "string", true},
      {"ipam.PrefixResponse", "prefix", 2, "string", false},
      {"ipam.PrefixResponse", "exclude_prefixes", 3, "string", true},
  };
  return rows;
}

std::string KindOf(const FieldDescriptor* f) {
  if (f->is_map()) {
    const FieldDescriptor* value = f->message_type()->map_value();
    std::string v = value->type() == FieldDescriptor::TYPE_MESSAGE
                        ? std::string(value->message_type()->full_name())
                        : std::string(value->type_name());
    return "map<" + std::string(f->message_type()->map_key()->type_name()) + "," + v + ">";
  }
  switch (f->type()) {
    case FieldDescriptor::TYPE_MESSAGE:
      return "message:" + std::string(f->message_type()->full_name());
    case FieldDescriptor::TYPE_ENUM:
      return "enum:" + std::string(f->enum_type()->full_name());
    default:
      return f->type_name();
  }
}

// Objects of a static library that nothing references are not linked, and their descriptors
// never reach the generated pool; touching one descriptor per .proto file links them all.
const DescriptorPool* ApiPool() {
  (void)networkservice::NetworkServiceRequest::descriptor();
  (void)connection::Connection::descriptor();
  (void)connectioncontext::ConnectionContext::descriptor();
  (void)registry::NetworkServiceEndpoint::descriptor();
  (void)ipam::PrefixRequest::descriptor();
  return DescriptorPool::generated_pool();
}

TEST(ApiDescriptor, EveryFieldMatchesTheUpstreamTable) {
  const DescriptorPool* pool = ApiPool();
  for (const FieldRow& row : Fields()) {
    SCOPED_TRACE(std::string(row.message) + "." + row.field);
    const auto* message = pool->FindMessageTypeByName(row.message);
    ASSERT_NE(message, nullptr) << "message missing";
    const FieldDescriptor* field = message->FindFieldByName(row.field);
    ASSERT_NE(field, nullptr) << "field missing";
    EXPECT_EQ(field->number(), row.number);
    EXPECT_EQ(KindOf(field), row.kind);
    EXPECT_EQ(field->is_repeated() && !field->is_map(), row.repeated);
  }
}

TEST(ApiDescriptor, MessagesHaveNoFieldsBeyondTheTable) {
  const DescriptorPool* pool = ApiPool();
  std::set<std::string> messages;
  for (const FieldRow& row : Fields()) messages.insert(row.message);
  for (const std::string& name : messages) {
    const auto* message = pool->FindMessageTypeByName(name);
    ASSERT_NE(message, nullptr) << name;
    int in_table = 0;
    for (const FieldRow& row : Fields()) in_table += name == row.message;
    EXPECT_EQ(message->field_count(), in_table) << name;
  }
}

struct EnumRow {
  const char* enum_name;
  const char* value;
  int number;
};

TEST(ApiDescriptor, EnumValuesMatchUpstream) {
  const std::vector<EnumRow> rows = {
      {"connection.State", "UP", 0},
      {"connection.State", "DOWN", 1},
      {"connection.State", "REFRESH_REQUESTED", 2},
      {"connection.State", "RESELECT_REQUESTED", 3},
      {"connection.ConnectionEventType", "INITIAL_STATE_TRANSFER", 0},
      {"connection.ConnectionEventType", "UPDATE", 1},
      {"connection.ConnectionEventType", "DELETE", 2},
      {"connectioncontext.IpFamily.Family", "IPV4", 0},
      {"connectioncontext.IpFamily.Family", "IPV6", 1},
      {"ipam.Type", "UNDEFINED", 0},
      {"ipam.Type", "ALLOCATE", 1},
      {"ipam.Type", "DELETE", 2},
  };
  const DescriptorPool* pool = ApiPool();
  for (const EnumRow& row : rows) {
    SCOPED_TRACE(std::string(row.enum_name) + "." + row.value);
    const auto* e = pool->FindEnumTypeByName(row.enum_name);
    ASSERT_NE(e, nullptr);
    const auto* v = e->FindValueByName(row.value);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->number(), row.number);
  }
}

struct MethodRow {
  const char* path;  // as sent on the wire: /package.Service/Method
  const char* input;
  const char* output;
  bool client_streaming;
  bool server_streaming;
};

TEST(ApiDescriptor, MethodPathsAndStreamingMatchUpstream) {
  const std::vector<MethodRow> rows = {
      {"/networkservice.NetworkService/Request", "networkservice.NetworkServiceRequest",
       "connection.Connection", false, false},
      {"/networkservice.NetworkService/Close", "connection.Connection", "google.protobuf.Empty",
       false, false},
      {"/connection.MonitorConnection/MonitorConnections", "connection.MonitorScopeSelector",
       "connection.ConnectionEvent", false, true},
      {"/registry.NetworkServiceEndpointRegistry/Register", "registry.NetworkServiceEndpoint",
       "registry.NetworkServiceEndpoint", false, false},
      {"/registry.NetworkServiceEndpointRegistry/Find", "registry.NetworkServiceEndpointQuery",
       "registry.NetworkServiceEndpointResponse", false, true},
      {"/registry.NetworkServiceEndpointRegistry/Unregister", "registry.NetworkServiceEndpoint",
       "google.protobuf.Empty", false, false},
      {"/registry.NetworkServiceRegistry/Register", "registry.NetworkService",
       "registry.NetworkService", false, false},
      {"/registry.NetworkServiceRegistry/Find", "registry.NetworkServiceQuery",
       "registry.NetworkServiceResponse", false, true},
      {"/registry.NetworkServiceRegistry/Unregister", "registry.NetworkService",
       "google.protobuf.Empty", false, false},
      {"/ipam.IPAM/ManagePrefixes", "ipam.PrefixRequest", "ipam.PrefixResponse", true, true},
  };
  const DescriptorPool* pool = ApiPool();
  for (const MethodRow& row : rows) {
    SCOPED_TRACE(row.path);
    std::string path = row.path;
    size_t slash = path.rfind('/');
    std::string service = path.substr(1, slash - 1);
    std::string method = path.substr(slash + 1);
    const auto* s = pool->FindServiceByName(service);
    ASSERT_NE(s, nullptr);
    const auto* m = s->FindMethodByName(method);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->input_type()->full_name(), row.input);
    EXPECT_EQ(m->output_type()->full_name(), row.output);
    EXPECT_EQ(m->client_streaming(), row.client_streaming);
    EXPECT_EQ(m->server_streaming(), row.server_streaming);
  }
}

TEST(ApiDescriptor, GeneratedStubsUseTheUpstreamMethodPaths) {
  // The generated stubs carry the method path string they put on the wire; a wrong package or
  // service name in the .proto would show up here.
  EXPECT_STREQ(networkservice::NetworkService::service_full_name(),
               "networkservice.NetworkService");
  EXPECT_STREQ(connection::MonitorConnection::service_full_name(), "connection.MonitorConnection");
  EXPECT_STREQ(registry::NetworkServiceEndpointRegistry::service_full_name(),
               "registry.NetworkServiceEndpointRegistry");
  EXPECT_STREQ(registry::NetworkServiceRegistry::service_full_name(),
               "registry.NetworkServiceRegistry");
  EXPECT_STREQ(ipam::IPAM::service_full_name(), "ipam.IPAM");
}

}  // namespace
