// Wire identity without trusting the generated code: messages are encoded here by a minimal,
// independent protobuf wire writer using the upstream field numbers, then parsed by the generated
// classes and checked field by field; the generated classes must also re-serialize to the very
// same bytes. A few messages are additionally pinned as literal hex.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "connection.pb.h"
#include "connectioncontext.pb.h"
#include "ipam.pb.h"
#include "networkservice.pb.h"
#include "registry.pb.h"

namespace {

// Minimal protobuf encoder: fields must be added in ascending field-number order, as every
// conforming serializer (and the C++ one with deterministic maps) writes them.
class Wire {
 public:
  Wire& Varint(int field, uint64_t v) {
    Key(field, 0);
    Raw(v);
    return *this;
  }
  Wire& Bool(int field, bool v) { return Varint(field, v ? 1 : 0); }
  Wire& Bytes(int field, const std::string& v) {
    Key(field, 2);
    Raw(v.size());
    out_ += v;
    return *this;
  }
  Wire& Msg(int field, const Wire& w) { return Bytes(field, w.out_); }
  // A map<string,string> entry: key = 1, value = 2.
  Wire& MapEntry(int field, const std::string& k, const std::string& v) {
    return Msg(field, Wire().Bytes(1, k).Bytes(2, v));
  }
  Wire& MapEntryMsg(int field, const std::string& k, const Wire& v) {
    return Msg(field, Wire().Bytes(1, k).Msg(2, v));
  }
  const std::string& str() const { return out_; }

 private:
  void Key(int field, int wire_type) { Raw((static_cast<uint64_t>(field) << 3) | wire_type); }
  void Raw(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  std::string out_;
};

std::string Hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

template <typename M>
std::string Deterministic(const M& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// proto3 leaves zero scalars off the wire.
Wire Timestamp(int64_t seconds, int32_t nanos) {
  Wire w;
  if (seconds != 0) w.Varint(1, seconds);
  if (nanos != 0) w.Varint(2, nanos);
  return w;
}

Wire ConnectionContextWire() {
  Wire route = Wire().Bytes(1, "172.16.1.100/32").Bytes(2, "172.16.1.100");
  Wire ip = Wire()
                .Bytes(1, "172.16.1.101/32")
                .Bytes(2, "172.16.1.100/32")
                .Bool(3, true)
                .Bool(4, true)
                .Msg(5, route)
                .Msg(6, Wire().Bytes(1, "172.16.1.101/32"))
                .Bytes(7, "10.96.0.0/12")
                .Msg(8, Wire().Bytes(1, "172.16.1.100").Bytes(2, "aa:bb:cc:dd:ee:ff"))
                .Msg(9, Wire().Msg(1, Wire().Varint(1, 1)).Varint(2, 64).Varint(3, 1).Varint(4, 2))
                .Bytes(10, "fd00::/64")
                .Msg(11, Wire()
                             .Bytes(1, "172.16.1.101/32")
                             .Bytes(2, "6")
                             .Bytes(3, "6666")
                             .Bytes(4, "5555-5560")
                             .Msg(5, route));
  return Wire()
      .Msg(1, ip)
      .Msg(2, Wire().Msg(1, Wire().Bytes(1, "172.16.1.100").Bytes(2, "my.coredns.service")))
      .Msg(3, Wire().Bytes(1, "02:00:00:00:00:01").Bytes(2, "02:00:00:00:00:02").Varint(3, 100))
      .MapEntry(4, "k", "v")
      .Varint(5, 1446);
}

Wire ConnectionWire() {
  Wire mechanism = Wire()
                       .Bytes(1, "LOCAL")
                       .Bytes(2, "KERNEL")
                       .MapEntry(3, "inodeURL", "inode://4/4026532000")
                       .MapEntry(3, "name", "nsm-1");
  Wire seg0 = Wire()
                  .Bytes(1, "nsc")
                  .Bytes(2, "nsc-0")
                  .Bytes(3, "eyJhbGciOiJFUzI1NiJ9.e30.sig")
                  .Msg(4, Timestamp(1790000000, 5))
                  .MapEntry(5, "client_interface", "KERNEL/nsm-1");
  Wire seg1 = Wire().Bytes(1, "nsmgr-a").Bytes(2, "3f1c7d2e-0000-4000-8000-000000000001");
  return Wire()
      .Bytes(1, "nsc-0")
      .Bytes(2, "kernel2kernel")
      .Msg(3, mechanism)
      .Msg(4, ConnectionContextWire())
      .MapEntry(5, "app", "a")
      .MapEntry(5, "nodeName", "node-a")
      .Msg(6, Wire().Varint(1, 1).Msg(2, seg0).Msg(2, seg1))
      .Bytes(7, "nse-1")
      .Bytes(8, "ETHERNET")
      .Varint(9, 3);
}

TEST(GoldenBytes, MechanismLiteralHex) {
  // cls=LOCAL (0a 05 ...), type=KERNEL (12 06 ...), parameters {name: nsm-1} (1a 0d 0a 04 ... 12 05
  // ...).
  connection::Mechanism m;
  m.set_cls("LOCAL");
  m.set_type("KERNEL");
  (*m.mutable_parameters())["name"] = "nsm-1";
  EXPECT_EQ(Hex(Deterministic(m)),
            "0a054c4f43414c"
            "12064b45524e454c"
            "1a0d0a046e616d6512056e736d2d31");
}

TEST(GoldenBytes, PathSegmentExpiresLiteralHex) {
  connection::PathSegment s;
  s.set_name("a");
  s.mutable_expires()->set_seconds(1);
  // name (0a 01 61), expires (22 02 08 01).
  EXPECT_EQ(Hex(Deterministic(s)),
            "0a0161"
            "22020801");
}

TEST(GoldenBytes, StateUpIsNotSerialized) {
  connection::Connection c;
  c.set_state(connection::UP);
  EXPECT_EQ(Deterministic(c), "");
  c.set_state(connection::RESELECT_REQUESTED);
  EXPECT_EQ(Hex(Deterministic(c)), "4803");
}

TEST(GoldenBytes, ConnectionDecodesFieldByField) {
  connection::Connection c;
  ASSERT_TRUE(c.ParseFromString(ConnectionWire().str()));
  EXPECT_EQ(c.id(), "nsc-0");
  EXPECT_EQ(c.network_service(), "kernel2kernel");
  EXPECT_EQ(c.mechanism().cls(), "LOCAL");
  EXPECT_EQ(c.mechanism().type(), "KERNEL");
  EXPECT_EQ(c.mechanism().parameters().at("name"), "nsm-1");
  EXPECT_EQ(c.mechanism().parameters().at("inodeURL"), "inode://4/4026532000");
  const auto& ctx = c.context();
  const auto& ip = ctx.ip_context();
  EXPECT_EQ(ip.src_ip_addrs(0), "172.16.1.101/32");
  EXPECT_EQ(ip.dst_ip_addrs(0), "172.16.1.100/32");
  EXPECT_TRUE(ip.src_ip_required());
  EXPECT_TRUE(ip.dst_ip_required());
  EXPECT_EQ(ip.src_routes(0).prefix(), "172.16.1.100/32");
  EXPECT_EQ(ip.src_routes(0).nexthop(), "172.16.1.100");
  EXPECT_EQ(ip.dst_routes(0).prefix(), "172.16.1.101/32");
  EXPECT_EQ(ip.excluded_prefixes(0), "10.96.0.0/12");
  EXPECT_EQ(ip.ip_neighbors(0).ip(), "172.16.1.100");
  EXPECT_EQ(ip.ip_neighbors(0).hardware_address(), "aa:bb:cc:dd:ee:ff");
  EXPECT_EQ(ip.extra_prefix_request(0).addr_family().family(), connectioncontext::IpFamily::IPV6);
  EXPECT_EQ(ip.extra_prefix_request(0).prefix_len(), 64u);
  EXPECT_EQ(ip.extra_prefix_request(0).required_number(), 1u);
  EXPECT_EQ(ip.extra_prefix_request(0).requested_number(), 2u);
  EXPECT_EQ(ip.extra_prefixes(0), "fd00::/64");
  EXPECT_EQ(ip.policies(0).from(), "172.16.1.101/32");
  EXPECT_EQ(ip.policies(0).proto(), "6");
  EXPECT_EQ(ip.policies(0).dst_port(), "6666");
  EXPECT_EQ(ip.policies(0).src_port(), "5555-5560");
  EXPECT_EQ(ip.policies(0).routes(0).nexthop(), "172.16.1.100");
  EXPECT_EQ(ctx.dns_context().configs(0).dns_server_ips(0), "172.16.1.100");
  EXPECT_EQ(ctx.dns_context().configs(0).search_domains(0), "my.coredns.service");
  EXPECT_EQ(ctx.ethernet_context().src_mac(), "02:00:00:00:00:01");
  EXPECT_EQ(ctx.ethernet_context().dst_mac(), "02:00:00:00:00:02");
  EXPECT_EQ(ctx.ethernet_context().vlan_tag(), 100);
  EXPECT_EQ(ctx.extra_context().at("k"), "v");
  EXPECT_EQ(ctx.mtu(), 1446u);
  EXPECT_EQ(c.labels().at("app"), "a");
  EXPECT_EQ(c.labels().at("nodeName"), "node-a");
  EXPECT_EQ(c.path().index(), 1u);
  ASSERT_EQ(c.path().path_segments_size(), 2);
  EXPECT_EQ(c.path().path_segments(0).name(), "nsc");
  EXPECT_EQ(c.path().path_segments(0).id(), "nsc-0");
  EXPECT_EQ(c.path().path_segments(0).token(), "eyJhbGciOiJFUzI1NiJ9.e30.sig");
  EXPECT_EQ(c.path().path_segments(0).expires().seconds(), 1790000000);
  EXPECT_EQ(c.path().path_segments(0).expires().nanos(), 5);
  EXPECT_EQ(c.path().path_segments(0).metrics().at("client_interface"), "KERNEL/nsm-1");
  EXPECT_EQ(c.path().path_segments(1).name(), "nsmgr-a");
  EXPECT_EQ(c.network_service_endpoint_name(), "nse-1");
  EXPECT_EQ(c.payload(), "ETHERNET");
  EXPECT_EQ(c.state(), connection::RESELECT_REQUESTED);
  // Nothing was left as an unknown field: every number we wrote is a known field.
  EXPECT_TRUE(c.GetReflection()->GetUnknownFields(c).empty());
  EXPECT_EQ(Hex(Deterministic(c)), Hex(ConnectionWire().str()));
}

TEST(GoldenBytes, NetworkServiceRequestAndEvent) {
  Wire pref = Wire().Bytes(1, "REMOTE").Bytes(2, "VXLAN").MapEntry(3, "src_ip", "10.0.0.1");
  Wire request = Wire().Msg(1, ConnectionWire()).Msg(2, pref);
  networkservice::NetworkServiceRequest r;
  ASSERT_TRUE(r.ParseFromString(request.str()));
  EXPECT_EQ(r.connection().id(), "nsc-0");
  EXPECT_EQ(r.mechanism_preferences(0).type(), "VXLAN");
  EXPECT_EQ(r.mechanism_preferences(0).parameters().at("src_ip"), "10.0.0.1");
  EXPECT_EQ(Deterministic(r), request.str());

  Wire event = Wire().Varint(1, 2).MapEntryMsg(2, "nsc-0", ConnectionWire());
  connection::ConnectionEvent e;
  ASSERT_TRUE(e.ParseFromString(event.str()));
  EXPECT_EQ(e.type(), connection::DELETE);
  EXPECT_EQ(e.connections().at("nsc-0").network_service(), "kernel2kernel");
  EXPECT_EQ(Deterministic(e), event.str());

  Wire selector = Wire().Msg(1, Wire().Bytes(1, "nsc").Bytes(2, "nsc-0")).Bytes(2, "svc");
  connection::MonitorScopeSelector s;
  ASSERT_TRUE(s.ParseFromString(selector.str()));
  EXPECT_EQ(s.path_segments(0).id(), "nsc-0");
  EXPECT_EQ(s.network_services(0), "svc");
  EXPECT_EQ(Deterministic(s), selector.str());
}

TEST(GoldenBytes, RegistryMessages) {
  Wire nse = Wire()
                 .Bytes(1, "nse-1")
                 .Bytes(2, "icmp-responder")
                 .MapEntryMsg(3, "icmp-responder", Wire().MapEntry(1, "color", "red"))
                 .Bytes(4, "tcp://10.0.0.1:5001")
                 .Msg(5, Timestamp(1790000060, 0))
                 .Msg(6, Timestamp(1790000000, 0))
                 .Bytes(7, "spiffe://example.org/nse")
                 .Bytes(7, "spiffe://example.org/nsmgr");
  registry::NetworkServiceEndpoint e;
  ASSERT_TRUE(e.ParseFromString(nse.str()));
  EXPECT_EQ(e.name(), "nse-1");
  EXPECT_EQ(e.network_service_names(0), "icmp-responder");
  EXPECT_EQ(e.network_service_labels().at("icmp-responder").labels().at("color"), "red");
  EXPECT_EQ(e.url(), "tcp://10.0.0.1:5001");
  EXPECT_EQ(e.expiration_time().seconds(), 1790000060);
  EXPECT_EQ(e.initial_registration_time().seconds(), 1790000000);
  ASSERT_EQ(e.path_ids_size(), 2);
  EXPECT_EQ(e.path_ids(1), "spiffe://example.org/nsmgr");
  EXPECT_EQ(Deterministic(e), nse.str());

  Wire response = Wire().Msg(1, nse).Bool(2, true);
  registry::NetworkServiceEndpointResponse er;
  ASSERT_TRUE(er.ParseFromString(response.str()));
  EXPECT_TRUE(er.deleted());
  EXPECT_EQ(Deterministic(er), response.str());

  Wire match = Wire()
                   .MapEntry(1, "app", "a")
                   .Msg(2, Wire().MapEntry(1, "color", "blue").Varint(2, 7))
                   .Bool(3, true)
                   .Msg(4, Wire().MapEntry(1, "p2p", "true"));
  Wire ns = Wire()
                .Bytes(1, "icmp-responder")
                .Bytes(2, "ETHERNET")
                .Msg(3, match)
                .Bytes(4, "spiffe://example.org/nse");
  registry::NetworkService s;
  ASSERT_TRUE(s.ParseFromString(ns.str()));
  EXPECT_EQ(s.payload(), "ETHERNET");
  EXPECT_EQ(s.matches(0).source_selector().at("app"), "a");
  EXPECT_EQ(s.matches(0).routes(0).destination_selector().at("color"), "blue");
  EXPECT_EQ(s.matches(0).routes(0).weight(), 7u);
  EXPECT_TRUE(s.matches(0).fallthrough());
  EXPECT_EQ(s.matches(0).metadata().labels().at("p2p"), "true");
  EXPECT_EQ(s.path_ids(0), "spiffe://example.org/nse");
  EXPECT_EQ(Deterministic(s), ns.str());

  Wire query = Wire().Msg(1, ns).Bool(2, true);
  registry::NetworkServiceQuery q;
  ASSERT_TRUE(q.ParseFromString(query.str()));
  EXPECT_TRUE(q.watch());
  EXPECT_EQ(Deterministic(q), query.str());
}

TEST(GoldenBytes, IpamMessages) {
  Wire req = Wire().Varint(1, 1).Bytes(2, "172.16.0.0/24").Bytes(3, "172.16.1.0/24");
  ipam::PrefixRequest r;
  ASSERT_TRUE(r.ParseFromString(req.str()));
  EXPECT_EQ(r.type(), ipam::ALLOCATE);
  EXPECT_EQ(r.exclude_prefixes(0), "172.16.1.0/24");
  EXPECT_EQ(Deterministic(r), req.str());
  // PrefixResponse starts at field 2 upstream.
  Wire resp = Wire().Bytes(2, "172.16.0.0/24").Bytes(3, "172.16.1.0/24");
  ipam::PrefixResponse p;
  ASSERT_TRUE(p.ParseFromString(resp.str()));
  EXPECT_EQ(p.prefix(), "172.16.0.0/24");
  EXPECT_EQ(Deterministic(p), resp.str());
}

}  // namespace
