// pcap/ for Python: live capture in a namespace, decoding, packet templates and the PTF-style
// verifier (expect_packet / expect_no_packet / expect_no_other_packets), pcap files, a scapy-style
// packet builder and raw senders.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "pcap/capture.h"
#include "pcap/captured_packet.h"
#include "pcap/decoded_packet.h"
#include "pcap/decoder.h"
#include "pcap/field.h"
#include "pcap/link_type.h"
#include "pcap/netns.h"
#include "pcap/packet_builder.h"
#include "pcap/packet_sender.h"
#include "pcap/packet_source.h"
#include "pcap/packet_template.h"
#include "pcap/packet_verifier.h"
#include "pcap/pcap_file.h"
#include "python/src/bindings.h"
#include "python/src/status.h"

namespace nsmcert::python {
namespace {

using pcap::CapturedPacket;
using pcap::DecodedPacket;
using pcap::FieldValue;
using pcap::PacketTemplate;

pcap::NetnsRef NetnsRefArg(const py::object& netns) {
  const std::string path = NetnsPathArg(netns);
  return path.empty() ? pcap::NetnsRef::Current() : pcap::NetnsRef::Path(path);
}

std::span<const uint8_t> BytesView(const py::bytes& bytes) {
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(bytes.ptr(), &data, &size) != 0) throw py::error_already_set();
  return {reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(size)};
}

py::bytes ToBytes(std::span<const uint8_t> data) {
  return py::bytes(reinterpret_cast<const char*>(data.data()), data.size());
}

pcap::DecodeOptions DecodeOptionsArg(const std::optional<std::vector<uint16_t>>& vxlan_ports) {
  pcap::DecodeOptions options;
  if (vxlan_ports) options.vxlan_ports = *vxlan_ports;
  return options;
}

// Numbers as int, bytes as bytes, addresses as their text.
py::object FieldToPython(const FieldValue& value) {
  switch (value.kind()) {
    case pcap::FieldKind::kUint:
      return py::int_(value.uint());
    case pcap::FieldKind::kBytes:
      return ToBytes(value.bytes());
    default:
      return py::str(value.ToString());
  }
}

// A field condition from Python: an int, a str (parsed by the field's kind) or bytes.
PacketTemplate& WithField(PacketTemplate& t, const std::string& field, const py::object& value) {
  if (py::isinstance<py::bool_>(value)) return t.With(field, value.cast<bool>() ? 1u : 0u);
  if (py::isinstance<py::int_>(value)) {
    const py::int_ number = value;
    if (number < py::int_(0)) {
      throw StatusError(absl::InvalidArgumentError(field + ": negative value"));
    }
    return t.With(field, value.cast<uint64_t>());
  }
  if (py::isinstance<py::bytes>(value)) {
    return t.With(field, FieldValue::Bytes(BytesView(value.cast<py::bytes>())));
  }
  return t.With(field, py::str(value).cast<std::string>());
}

const DecodedPacket& DecodedArg(const py::object& packet, DecodedPacket& storage) {
  if (py::isinstance<CapturedPacket>(packet)) {
    const auto& captured = packet.cast<const CapturedPacket&>();
    storage = pcap::Decode(captured.data, captured.link_type);
    return storage;
  }
  return packet.cast<const DecodedPacket&>();
}

py::list DiffList(const std::vector<pcap::FieldDiff>& diffs) {
  py::list out;
  for (const auto& diff : diffs) out.append(py::make_tuple(diff.field, diff.want, diff.got));
  return out;
}

// Expectation failures become PacketExpectationError (an AssertionError); a malformed template
// stays an InvalidArgumentError.
void ThrowIfExpectationFailed(const absl::Status& status) {
  if (status.ok()) return;
  if (status.code() == absl::StatusCode::kInvalidArgument) throw StatusError(status);
  throw StatusError(status, StatusError::Kind::kPacketExpectation);
}

absl::Duration OptionalSeconds(const std::optional<double>& seconds, absl::Duration fallback,
                               const char* what) {
  return seconds ? SecondsArg(*seconds, what) : fallback;
}

struct PyVerifier {
  PyVerifier(pcap::PacketSource* source, pcap::VerifierOptions options)
      : negative_timeout(options.negative_timeout), verifier(source, std::move(options)) {}
  absl::Duration negative_timeout;
  pcap::PacketVerifier verifier;
};

py::list PacketList(const std::vector<CapturedPacket>& packets) {
  py::list out;
  for (const auto& packet : packets) out.append(py::cast(packet));
  return out;
}

}  // namespace

void BindPcap(py::module_& m) {
  m.attr("LINKTYPE_ETHERNET") = pcap::kLinkTypeEthernet;
  m.attr("LINKTYPE_LINUX_SLL") = pcap::kLinkTypeLinuxSll;

  py::class_<DecodedPacket>(m, "DecodedPacket",
                            "A decoded frame: layers and Wireshark-named fields (ip.dst, "
                            "icmp.type, inner.ip.src for the frame inside VXLAN, ...).")
      .def_property_readonly("fields",
                             [](const DecodedPacket& p) {
                               py::list out;
                               for (const auto& f : p.fields()) {
                                 out.append(py::make_tuple(f.name, FieldToPython(f.value)));
                               }
                               return out;
                             })
      .def_property_readonly("layers",
                             [](const DecodedPacket& p) {
                               std::vector<std::string> names;
                               for (const auto& layer : p.layers()) names.push_back(layer.name);
                               return names;
                             })
      .def_property_readonly("errors", &DecodedPacket::errors)
      .def_property_readonly("complete", &DecodedPacket::complete)
      .def_property_readonly("summary", &DecodedPacket::Summary)
      .def("has_layer", &DecodedPacket::HasLayer, py::arg("name"))
      .def("__contains__",
           [](const DecodedPacket& p, const std::string& name) { return p.Has(name); })
      .def("__getitem__",
           [](const DecodedPacket& p, const std::string& name) {
             const FieldValue* value = p.Find(name);
             if (value == nullptr) throw py::key_error(name);
             return FieldToPython(*value);
           })
      .def(
          "get",
          [](const DecodedPacket& p, const std::string& name, py::object fallback) {
            const FieldValue* value = p.Find(name);
            return value == nullptr ? fallback : FieldToPython(*value);
          },
          py::arg("name"), py::arg("default") = py::none())
      .def(
          "text", [](const DecodedPacket& p, const std::string& name) { return p.GetString(name); },
          py::arg("name"), "A field as display text (\"\" when absent).")
      .def("__str__", &DecodedPacket::ToString)
      .def("__repr__",
           [](const DecodedPacket& p) { return "<DecodedPacket " + p.Summary() + ">"; });

  py::class_<CapturedPacket>(m, "Packet", "A frame as captured: bytes, timestamp, link type.")
      .def(py::init([](const py::bytes& data, double timestamp, int link_type,
                       std::optional<uint32_t> original_length) {
             CapturedPacket packet;
             const auto view = BytesView(data);
             packet.data.assign(view.begin(), view.end());
             packet.timestamp = absl::UnixEpoch() + absl::Seconds(timestamp);
             packet.link_type = link_type;
             packet.original_length =
                 original_length ? *original_length : static_cast<uint32_t>(packet.data.size());
             return packet;
           }),
           py::arg("data"), py::arg("timestamp") = 0.0,
           py::arg("link_type") = pcap::kLinkTypeEthernet, py::arg("original_length") = py::none())
      .def_property_readonly("data", [](const CapturedPacket& p) { return ToBytes(p.data); })
      .def_property_readonly("timestamp",
                             [](const CapturedPacket& p) { return UnixSecondsOf(p.timestamp); })
      .def_readonly("link_type", &CapturedPacket::link_type)
      .def_readonly("original_length", &CapturedPacket::original_length)
      .def(
          "decode",
          [](const CapturedPacket& p, const std::optional<std::vector<uint16_t>>& vxlan_ports) {
            return pcap::Decode(p.data, p.link_type, DecodeOptionsArg(vxlan_ports));
          },
          py::arg("vxlan_ports") = py::none())
      .def_property_readonly(
          "summary",
          [](const CapturedPacket& p) { return pcap::Decode(p.data, p.link_type).Summary(); })
      .def("__getitem__",
           [](const CapturedPacket& p, const std::string& name) {
             const DecodedPacket decoded = pcap::Decode(p.data, p.link_type);
             const FieldValue* value = decoded.Find(name);
             if (value == nullptr) throw py::key_error(name);
             return FieldToPython(*value);
           })
      .def("__contains__",
           [](const CapturedPacket& p, const std::string& name) {
             return pcap::Decode(p.data, p.link_type).Has(name);
           })
      .def("__len__", [](const CapturedPacket& p) { return p.data.size(); })
      .def("__repr__", [](const CapturedPacket& p) {
        return "<Packet " + pcap::Decode(p.data, p.link_type).Summary() + ">";
      });

  m.def(
      "decode",
      [](const py::bytes& data, int link_type,
         const std::optional<std::vector<uint16_t>>& vxlan_ports) {
        return pcap::Decode(BytesView(data), link_type, DecodeOptionsArg(vxlan_ports));
      },
      py::arg("data"), py::arg("link_type") = pcap::kLinkTypeEthernet,
      py::arg("vxlan_ports") = py::none(), "Decodes one frame; never fails (see .errors).");
  m.def(
      "field_catalogue",
      [] {
        py::list out;
        for (const auto& spec : pcap::AllFieldSpecs()) {
          out.append(py::make_tuple(std::string(spec.name),
                                    std::string(pcap::FieldKindName(spec.kind)),
                                    std::string(spec.description)));
        }
        return out;
      },
      "Every field name the decoders emit: (name, kind, description).");

  py::class_<PacketTemplate>(m, "PacketTemplate",
                             "What a packet should look like: conditions on named fields, every "
                             "other field don't-care. Builder methods return the template.")
      .def(py::init([](const std::optional<py::dict>& fields) {
             PacketTemplate t;
             if (fields) {
               for (const auto& [key, value] : *fields) {
                 WithField(t, py::str(key), py::reinterpret_borrow<py::object>(value));
               }
             }
             return t;
           }),
           py::arg("fields") = py::none(),
           "`fields` maps field names to values: PacketTemplate({\"ip.dst\": \"10.0.0.2\", "
           "\"icmp.type\": 8}).")
      .def_static(
          "from_frame",
          [](const py::bytes& frame, int link_type,
             const std::optional<std::vector<uint16_t>>& vxlan_ports) {
            return PacketTemplate::FromFrame(BytesView(frame), link_type,
                                             DecodeOptionsArg(vxlan_ports));
          },
          py::arg("frame"), py::arg("link_type") = pcap::kLinkTypeEthernet,
          py::arg("vxlan_ports") = py::none(),
          "A condition on every field of a crafted frame; mask what varies with dont_care().")
      .def_static("from_packet", &PacketTemplate::FromPacket, py::arg("packet"))
      .def("field", &WithField, py::arg("name"), py::arg("value"),
           py::return_value_policy::reference_internal,
           "The field must be present with this value (int, text, or bytes).")
      .def(
          "has",
          [](PacketTemplate& t, const std::string& f) -> PacketTemplate& { return t.Has(f); },
          py::arg("name"), py::return_value_policy::reference_internal)
      .def(
          "lacks",
          [](PacketTemplate& t, const std::string& f) -> PacketTemplate& { return t.Lacks(f); },
          py::arg("name"), py::return_value_policy::reference_internal)
      .def(
          "dont_care",
          [](PacketTemplate& t, const std::string& pattern) -> PacketTemplate& {
            return t.DontCare(pattern);
          },
          py::arg("pattern"), py::return_value_policy::reference_internal,
          "Drops conditions on a field, or on a prefix ending in '*' (\"eth.*\").")
      .def(
          "check", [](const PacketTemplate& t) { ThrowIfError(t.status()); },
          "Raises the first mistake made while building (unknown field, bad value).")
      .def(
          "matches",
          [](const PacketTemplate& t, const py::object& packet) {
            DecodedPacket storage;
            return t.Matches(DecodedArg(packet, storage));
          },
          py::arg("packet"))
      .def(
          "diff",
          [](const PacketTemplate& t, const py::object& packet) {
            DecodedPacket storage;
            return DiffList(t.Diff(DecodedArg(packet, storage)));
          },
          py::arg("packet"), "The conditions a packet fails: [(field, want, got), ...].")
      .def("__len__", &PacketTemplate::size)
      .def("__str__", &PacketTemplate::ToString)
      .def("__repr__",
           [](const PacketTemplate& t) { return "<PacketTemplate " + t.ToString() + ">"; });

  py::class_<pcap::PacketSource>(m, "PacketSource", "Where a verifier reads packets from.")
      .def_property_readonly("now",
                             [](const pcap::PacketSource& s) { return UnixSecondsOf(s.Now()); })
      .def(
          "next_packet",
          [](pcap::PacketSource& s, double timeout) -> std::optional<CapturedPacket> {
            const absl::Duration d = SecondsArg(timeout, "timeout");
            py::gil_scoped_release release;
            return s.NextPacket(s.Now() + d);
          },
          py::arg("timeout") = 0.0,
          "The next packet not returned before, waiting up to `timeout`; None when none came.");

  py::class_<pcap::Capture, pcap::PacketSource>(
      m, "Capture",
      "A live libpcap capture on one interface inside a namespace, to memory and optionally to a "
      "pcap file. Stops when closed or collected.")
      .def_static(
          "start",
          [](const py::object& netns, const std::string& interface, const std::string& filter,
             const std::string& pcap_path, int snap_length, bool promiscuous,
             size_t max_packets_in_memory) {
            pcap::CaptureOptions options;
            options.interface = interface;
            options.filter = filter;
            options.pcap_path = pcap_path;
            options.snap_length = snap_length;
            options.promiscuous = promiscuous;
            options.max_packets_in_memory = max_packets_in_memory;
            const pcap::NetnsRef ref = NetnsRefArg(netns);
            py::gil_scoped_release release;
            return ValueOrThrow(pcap::Capture::Start(ref, std::move(options)));
          },
          py::arg("netns"), py::arg("interface"), py::arg("filter") = "", py::arg("pcap_path") = "",
          py::arg("snap_length") = pcap::kDefaultSnapLength, py::arg("promiscuous") = true,
          py::arg("max_packets_in_memory") = 100000,
          "Returns once the capture is live. `interface` \"any\" captures every interface (Linux "
          "cooked headers).")
      .def(
          "stop",
          [](pcap::Capture& c) {
            py::gil_scoped_release release;
            ThrowIfError(c.Stop());
          },
          "Stops; raises the first error the capture met (interface gone, file unwritable).")
      .def(
          "packets", [](const pcap::Capture& c) { return PacketList(c.Packets()); },
          "Every packet kept so far, whatever a verifier took.")
      .def_property_readonly("stats",
                             [](const pcap::Capture& c) {
                               const pcap::CaptureStats stats = c.stats();
                               py::dict d;
                               d["captured"] = stats.captured;
                               d["not_kept_in_memory"] = stats.not_kept_in_memory;
                               d["dropped_by_kernel"] = stats.dropped_by_kernel;
                               return d;
                             })
      .def_property_readonly("running", &pcap::Capture::running)
      .def_property_readonly("link_type", &pcap::Capture::link_type)
      .def_property_readonly("interface",
                             [](const pcap::Capture& c) { return c.options().interface; })
      .def_property_readonly("filter", [](const pcap::Capture& c) { return c.options().filter; })
      .def_property_readonly("pcap_path",
                             [](const pcap::Capture& c) { return c.options().pcap_path; });

  py::class_<pcap::ReplayPacketSource, pcap::PacketSource>(
      m, "ReplaySource", "Recorded packets replayed on a virtual clock: timeouts cost no time.")
      .def(py::init([](const std::vector<CapturedPacket>& packets, std::optional<double> start) {
             std::optional<absl::Time> at;
             if (start) at = absl::UnixEpoch() + absl::Seconds(*start);
             return std::make_unique<pcap::ReplayPacketSource>(packets, at);
           }),
           py::arg("packets"), py::arg("start") = py::none())
      .def_property_readonly("remaining", &pcap::ReplayPacketSource::remaining);

  py::class_<pcap::PcapFileContents>(m, "PcapFile", "The contents of a capture file.")
      .def_readonly("link_type", &pcap::PcapFileContents::link_type)
      .def_readonly("packets", &pcap::PcapFileContents::packets);
  m.def(
      "read_pcap",
      [](const std::string& path) {
        py::gil_scoped_release release;
        return ValueOrThrow(pcap::ReadPcapFile(path));
      },
      py::arg("path"), "Reads a pcap or pcapng file.");
  m.def(
      "write_pcap",
      [](const std::string& path, int link_type, const std::vector<CapturedPacket>& packets) {
        py::gil_scoped_release release;
        ThrowIfError(pcap::WritePcapFile(path, link_type, packets));
      },
      py::arg("path"), py::arg("link_type"), py::arg("packets"),
      "Writes a classic pcap file (microsecond timestamps).");

  py::class_<PyVerifier>(m, "Verifier",
                         "PTF-style packet expectations over a Capture or a ReplaySource. A "
                         "failed expectation raises PacketExpectationError (an AssertionError) "
                         "showing the closest packets and the fields that differ.")
      .def(py::init([](pcap::PacketSource* source, double negative_timeout,
                       const std::optional<std::vector<uint16_t>>& vxlan_ports, int closest_shown) {
             pcap::VerifierOptions options;
             options.negative_timeout = SecondsArg(negative_timeout, "negative_timeout");
             options.decode = DecodeOptionsArg(vxlan_ports);
             options.closest_shown = closest_shown;
             return std::make_unique<PyVerifier>(source, std::move(options));
           }),
           py::arg("source"), py::arg("negative_timeout") = 0.3,
           py::arg("vxlan_ports") = py::none(), py::arg("closest_shown") = 3,
           py::keep_alive<1, 2>())
      .def(
          "flush",
          [](PyVerifier& v) {
            py::gil_scoped_release release;
            v.verifier.Flush();
          },
          "Forgets every packet seen so far: call right before the stimulus.")
      .def(
          "expect_packet",
          [](PyVerifier& v, const PacketTemplate& expected, double timeout) {
            const absl::Duration d = SecondsArg(timeout, "timeout");
            absl::Status status;
            {
              py::gil_scoped_release release;
              status = v.verifier.ExpectPacket(expected, d);
            }
            ThrowIfExpectationFailed(status);
          },
          py::arg("expected"), py::arg("timeout") = 2.0,
          "A matching packet arrives (or arrived unclaimed) within `timeout`; claims it.")
      .def(
          "expect_packets",
          [](PyVerifier& v, const PacketTemplate& expected, int count, double timeout) {
            const absl::Duration d = SecondsArg(timeout, "timeout");
            absl::Status status;
            {
              py::gil_scoped_release release;
              status = v.verifier.ExpectPackets(expected, count, d);
            }
            ThrowIfExpectationFailed(status);
          },
          py::arg("expected"), py::arg("count"), py::arg("timeout") = 2.0)
      .def(
          "expect_no_packet",
          [](PyVerifier& v, const PacketTemplate& unwanted, std::optional<double> timeout) {
            const absl::Duration d = OptionalSeconds(timeout, v.negative_timeout, "timeout");
            absl::Status status;
            {
              py::gil_scoped_release release;
              status = v.verifier.ExpectNoPacket(unwanted, d);
            }
            ThrowIfExpectationFailed(status);
          },
          py::arg("unwanted"), py::arg("timeout") = py::none(),
          "No matching packet, unclaimed or arriving within the (short, negative) timeout.")
      .def(
          "expect_no_other_packets",
          [](PyVerifier& v, std::optional<double> timeout) {
            const absl::Duration d = OptionalSeconds(timeout, v.negative_timeout, "timeout");
            absl::Status status;
            {
              py::gil_scoped_release release;
              status = v.verifier.ExpectNoOtherPackets(d);
            }
            ThrowIfExpectationFailed(status);
          },
          py::arg("timeout") = py::none(),
          "No unclaimed packet except those matching an ignore() template.")
      .def(
          "ignore", [](PyVerifier& v, PacketTemplate background) { v.verifier.Ignore(background); },
          py::arg("background"), "Background traffic expect_no_other_packets overlooks.")
      .def_property_readonly("unclaimed",
                             [](const PyVerifier& v) {
                               py::list out;
                               for (const auto& seen : v.verifier.unclaimed()) {
                                 out.append(py::cast(seen.packet));
                               }
                               return out;
                             })
      .def_property_readonly("packets_seen",
                             [](const PyVerifier& v) { return v.verifier.packets_seen(); });

  py::class_<pcap::PacketBuilder>(m, "PacketBuilder",
                                  "Frames layer by layer, outermost first; build() fills in types, "
                                  "lengths and checksums unless given.")
      .def(py::init<>())
      .def(
          "ethernet",
          [](pcap::PacketBuilder& b, std::string dst, std::string src,
             std::optional<uint16_t> type) -> pcap::PacketBuilder& {
            pcap::EthernetSpec spec;
            spec.dst = std::move(dst);
            spec.src = std::move(src);
            spec.type = type;
            return b.Ethernet(std::move(spec));
          },
          py::arg("dst") = "ff:ff:ff:ff:ff:ff", py::arg("src") = "02:00:00:00:00:01",
          py::arg("type") = py::none(), py::return_value_policy::reference_internal)
      .def(
          "vlan",
          [](pcap::PacketBuilder& b, uint16_t id, uint8_t priority, bool dei,
             std::optional<uint16_t> type) -> pcap::PacketBuilder& {
            pcap::VlanSpec spec;
            spec.id = id;
            spec.priority = priority;
            spec.dei = dei;
            spec.type = type;
            return b.Vlan(spec);
          },
          py::arg("id") = 1, py::arg("priority") = 0, py::arg("dei") = false,
          py::arg("type") = py::none(), py::return_value_policy::reference_internal)
      .def(
          "arp",
          [](pcap::PacketBuilder& b, uint16_t opcode, std::string sender_mac, std::string sender_ip,
             std::string target_mac, std::string target_ip) -> pcap::PacketBuilder& {
            pcap::ArpSpec spec;
            spec.opcode = opcode;
            spec.sender_mac = std::move(sender_mac);
            spec.sender_ip = std::move(sender_ip);
            spec.target_mac = std::move(target_mac);
            spec.target_ip = std::move(target_ip);
            return b.Arp(std::move(spec));
          },
          py::arg("opcode") = 1, py::arg("sender_mac") = "02:00:00:00:00:01",
          py::arg("sender_ip") = "", py::arg("target_mac") = "00:00:00:00:00:00",
          py::arg("target_ip") = "", py::return_value_policy::reference_internal)
      .def(
          "ipv4",
          [](pcap::PacketBuilder& b, std::string src, std::string dst, uint8_t ttl, uint8_t dsfield,
             uint16_t id, bool dont_fragment, bool more_fragments, uint16_t fragment_offset,
             std::optional<uint8_t> protocol, std::optional<uint16_t> total_length,
             std::optional<uint16_t> checksum) -> pcap::PacketBuilder& {
            pcap::Ipv4Spec spec;
            spec.src = std::move(src);
            spec.dst = std::move(dst);
            spec.ttl = ttl;
            spec.dsfield = dsfield;
            spec.id = id;
            spec.dont_fragment = dont_fragment;
            spec.more_fragments = more_fragments;
            spec.fragment_offset = fragment_offset;
            spec.protocol = protocol;
            spec.total_length = total_length;
            spec.checksum = checksum;
            return b.Ipv4(std::move(spec));
          },
          py::arg("src") = "", py::arg("dst") = "", py::arg("ttl") = 64, py::arg("dsfield") = 0,
          py::arg("id") = 0, py::arg("dont_fragment") = false, py::arg("more_fragments") = false,
          py::arg("fragment_offset") = 0, py::arg("protocol") = py::none(),
          py::arg("total_length") = py::none(), py::arg("checksum") = py::none(),
          py::return_value_policy::reference_internal)
      .def(
          "ipv6",
          [](pcap::PacketBuilder& b, std::string src, std::string dst, uint8_t hop_limit,
             uint8_t traffic_class, uint32_t flow_label, std::optional<uint8_t> next_header,
             std::optional<uint16_t> payload_length) -> pcap::PacketBuilder& {
            pcap::Ipv6Spec spec;
            spec.src = std::move(src);
            spec.dst = std::move(dst);
            spec.hop_limit = hop_limit;
            spec.traffic_class = traffic_class;
            spec.flow_label = flow_label;
            spec.next_header = next_header;
            spec.payload_length = payload_length;
            return b.Ipv6(std::move(spec));
          },
          py::arg("src") = "", py::arg("dst") = "", py::arg("hop_limit") = 64,
          py::arg("traffic_class") = 0, py::arg("flow_label") = 0,
          py::arg("next_header") = py::none(), py::arg("payload_length") = py::none(),
          py::return_value_policy::reference_internal)
      .def(
          "icmp",
          [](pcap::PacketBuilder& b, uint8_t type, uint8_t code, uint16_t ident, uint16_t seq,
             std::optional<uint16_t> checksum) -> pcap::PacketBuilder& {
            pcap::IcmpSpec spec;
            spec.type = type;
            spec.code = code;
            spec.ident = ident;
            spec.seq = seq;
            spec.checksum = checksum;
            return b.Icmp(spec);
          },
          py::arg("type") = 8, py::arg("code") = 0, py::arg("ident") = 0, py::arg("seq") = 0,
          py::arg("checksum") = py::none(), py::return_value_policy::reference_internal)
      .def(
          "icmpv6",
          [](pcap::PacketBuilder& b, uint8_t type, uint8_t code, uint16_t ident, uint16_t seq,
             std::optional<uint16_t> checksum) -> pcap::PacketBuilder& {
            pcap::Icmpv6Spec spec;
            spec.type = type;
            spec.code = code;
            spec.ident = ident;
            spec.seq = seq;
            spec.checksum = checksum;
            return b.Icmpv6(spec);
          },
          py::arg("type") = 128, py::arg("code") = 0, py::arg("ident") = 0, py::arg("seq") = 0,
          py::arg("checksum") = py::none(), py::return_value_policy::reference_internal)
      .def(
          "udp",
          [](pcap::PacketBuilder& b, uint16_t src_port, uint16_t dst_port,
             std::optional<uint16_t> length,
             std::optional<uint16_t> checksum) -> pcap::PacketBuilder& {
            pcap::UdpSpec spec;
            spec.src_port = src_port;
            spec.dst_port = dst_port;
            spec.length = length;
            spec.checksum = checksum;
            return b.Udp(spec);
          },
          py::arg("src_port") = 0, py::arg("dst_port") = 0, py::arg("length") = py::none(),
          py::arg("checksum") = py::none(), py::return_value_policy::reference_internal)
      .def(
          "tcp",
          [](pcap::PacketBuilder& b, uint16_t src_port, uint16_t dst_port, uint32_t seq,
             uint32_t ack, uint16_t flags, uint16_t window,
             std::optional<uint16_t> checksum) -> pcap::PacketBuilder& {
            pcap::TcpSpec spec;
            spec.src_port = src_port;
            spec.dst_port = dst_port;
            spec.seq = seq;
            spec.ack = ack;
            spec.flags = flags;
            spec.window = window;
            spec.checksum = checksum;
            return b.Tcp(spec);
          },
          py::arg("src_port") = 0, py::arg("dst_port") = 0, py::arg("seq") = 0, py::arg("ack") = 0,
          py::arg("flags") = pcap::kTcpSyn, py::arg("window") = 65535,
          py::arg("checksum") = py::none(), py::return_value_policy::reference_internal)
      .def(
          "vxlan",
          [](pcap::PacketBuilder& b, uint32_t vni, uint16_t flags) -> pcap::PacketBuilder& {
            pcap::VxlanSpec spec;
            spec.vni = vni;
            spec.flags = flags;
            return b.Vxlan(spec);
          },
          py::arg("vni") = 0, py::arg("flags") = 0x0800,
          py::return_value_policy::reference_internal)
      .def(
          "payload",
          [](pcap::PacketBuilder& b, const py::object& data) -> pcap::PacketBuilder& {
            if (py::isinstance<py::bytes>(data))
              return b.Payload(BytesView(data.cast<py::bytes>()));
            return b.Payload(std::string_view(data.cast<std::string>()));
          },
          py::arg("data"), py::return_value_policy::reference_internal)
      .def(
          "build", [](const pcap::PacketBuilder& b) { return ToBytes(ValueOrThrow(b.Build())); },
          "The frame's bytes; InvalidArgumentError names the layer and field at fault.");

  py::class_<pcap::FrameSender>(m, "FrameSender",
                                "Writes whole Ethernet frames onto one interface of a namespace.")
      .def_static(
          "open",
          [](const py::object& netns, const std::string& interface) {
            const pcap::NetnsRef ref = NetnsRefArg(netns);
            py::gil_scoped_release release;
            return ValueOrThrow(pcap::FrameSender::Open(ref, interface));
          },
          py::arg("netns"), py::arg("interface"))
      .def(
          "send",
          [](pcap::FrameSender& s, const py::bytes& frame) {
            ThrowIfError(s.Send(BytesView(frame)));
          },
          py::arg("frame"))
      .def_property_readonly("interface", &pcap::FrameSender::interface);

  py::class_<pcap::IpPacketSender>(m, "IpPacketSender",
                                   "Sends IP packets through a namespace's routing table.")
      .def_static(
          "open",
          [](const py::object& netns) {
            const pcap::NetnsRef ref = NetnsRefArg(netns);
            py::gil_scoped_release release;
            return ValueOrThrow(pcap::IpPacketSender::Open(ref));
          },
          py::arg("netns"))
      .def(
          "send",
          [](pcap::IpPacketSender& s, const py::bytes& packet) {
            ThrowIfError(s.Send(BytesView(packet)));
          },
          py::arg("packet"));
}

}  // namespace nsmcert::python
