// reference/kernel for Python: named namespaces and the part of the netlink chokepoint a scenario
// needs to wire workloads by hand (veth pairs, addresses, routes) and to look at what a namespace
// holds.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "python/src/bindings.h"
#include "python/src/status.h"
#include "reference/kernel/netlink.h"
#include "reference/kernel/netns.h"

namespace nsmcert::python {
namespace {

kernel::NetNs OpenNetns(const py::object& netns) {
  const std::string path = NetnsPathArg(netns);
  if (path.empty()) return ValueOrThrow(kernel::NetNs::Current());
  return ValueOrThrow(kernel::NetNs::FromPath(path));
}

// A netlink socket bound to one namespace, with that namespace held open (a veth peer may be
// created there).
class PyNetlink {
 public:
  static std::unique_ptr<PyNetlink> Open(const py::object& netns) {
    kernel::NetNs ns = OpenNetns(netns);
    std::unique_ptr<kernel::Netlink> nl;
    {
      py::gil_scoped_release release;
      auto opened = kernel::Netlink::Open(ns);
      if (!opened.ok()) throw StatusError(opened.status());
      nl = std::move(*opened);
    }
    return std::unique_ptr<PyNetlink>(new PyNetlink(std::move(ns), std::move(nl)));
  }

  kernel::Netlink& nl() { return *nl_; }
  const kernel::NetNs& ns() const { return ns_; }

 private:
  PyNetlink(kernel::NetNs ns, std::unique_ptr<kernel::Netlink> nl)
      : ns_(std::move(ns)), nl_(std::move(nl)) {}
  kernel::NetNs ns_;
  std::unique_ptr<kernel::Netlink> nl_;
};

py::dict LinkDict(const kernel::LinkInfo& link) {
  py::dict d;
  d["index"] = link.index;
  d["name"] = link.name;
  d["kind"] = link.kind;
  d["mtu"] = link.mtu;
  d["up"] = link.up;
  d["mac"] = link.mac;
  d["master_index"] = link.master_index;
  if (link.kind == "vxlan") {
    d["vxlan_vni"] = link.vxlan_vni;
    d["vxlan_remote"] = link.vxlan_remote;
    d["vxlan_local"] = link.vxlan_local;
    d["vxlan_port"] = link.vxlan_port;
  }
  return d;
}

py::dict RouteDict(const kernel::RouteInfo& route) {
  py::dict d;
  d["prefix"] = route.prefix;
  d["via"] = route.via;
  d["device"] = route.device;
  d["table"] = route.table;
  d["src"] = route.src;
  d["metric"] = route.metric;
  d["onlink"] = route.onlink;
  return d;
}

}  // namespace

void BindKernel(py::module_& m) {
  m.def("list_named_netns", &kernel::ListNamedNetNs,
        "Names of the named network namespaces (/run/netns), sorted.");
  m.def(
      "netns_inode_url", [](const py::object& netns) { return OpenNetns(netns).InodeUrl(); },
      py::arg("netns"), "The NSM inode URL (inode://<dev>/<ino>) of a namespace.");

  py::class_<PyNetlink>(m, "Netlink",
                        "A netlink socket bound to one network namespace. Operations act on "
                        "that namespace whichever thread calls them.")
      .def_static("open", &PyNetlink::Open, py::arg("netns") = py::none(),
                  "Opens a socket in `netns` (None = the caller's namespace).")
      .def(
          "create_veth",
          [](PyNetlink& self, const std::string& name, const std::string& peer,
             const py::object& peer_netns, std::uint32_t mtu) {
            std::unique_ptr<kernel::NetNs> peer_ns;
            if (!peer_netns.is_none())
              peer_ns = std::make_unique<kernel::NetNs>(OpenNetns(peer_netns));
            py::gil_scoped_release release;
            ThrowIfError(self.nl().CreateVeth(name, peer, peer_ns.get(), mtu));
          },
          py::arg("name"), py::arg("peer"), py::arg("peer_netns") = py::none(), py::arg("mtu") = 0,
          "A veth pair; with `peer_netns` the peer is created directly in that namespace.")
      .def(
          "set_up",
          [](PyNetlink& self, const std::string& link, bool up) {
            py::gil_scoped_release release;
            ThrowIfError(self.nl().SetUp(link, up));
          },
          py::arg("link"), py::arg("up") = true)
      .def(
          "set_mtu",
          [](PyNetlink& self, const std::string& link, std::uint32_t mtu) {
            py::gil_scoped_release release;
            ThrowIfError(self.nl().SetMtu(link, mtu));
          },
          py::arg("link"), py::arg("mtu"))
      .def(
          "add_address",
          [](PyNetlink& self, const std::string& link, const std::string& cidr) {
            py::gil_scoped_release release;
            ThrowIfError(self.nl().AddAddress(link, cidr));
          },
          py::arg("link"), py::arg("cidr"))
      .def(
          "delete_link",
          [](PyNetlink& self, const std::string& link) {
            py::gil_scoped_release release;
            ThrowIfError(self.nl().DeleteLink(link));
          },
          py::arg("link"))
      .def(
          "add_route",
          [](PyNetlink& self, const std::string& prefix, const std::string& device,
             const std::string& via, bool onlink, std::uint32_t table, std::uint32_t metric) {
            kernel::RouteSpec route;
            route.prefix = prefix;
            route.device = device;
            route.via = via;
            route.onlink = onlink;
            route.table = table;
            route.metric = metric;
            py::gil_scoped_release release;
            ThrowIfError(self.nl().AddRoute(route));
          },
          py::arg("prefix"), py::arg("device") = "", py::arg("via") = "", py::arg("onlink") = false,
          py::arg("table") = kernel::kMainTable, py::arg("metric") = 0)
      .def(
          "links",
          [](PyNetlink& self) {
            std::vector<kernel::LinkInfo> links;
            {
              py::gil_scoped_release release;
              links = ValueOrThrow(self.nl().ListLinks());
            }
            py::list out;
            for (const auto& link : links) out.append(LinkDict(link));
            return out;
          },
          "Every link of the namespace as a dict (name, kind, mtu, up, mac, index, ...).")
      .def(
          "link",
          [](PyNetlink& self, const std::string& name) {
            kernel::LinkInfo link;
            {
              py::gil_scoped_release release;
              link = ValueOrThrow(self.nl().GetLink(name));
            }
            return LinkDict(link);
          },
          py::arg("name"), "One link as a dict; NotFoundError when there is no such link.")
      .def(
          "addresses",
          [](PyNetlink& self, const std::string& link) {
            std::vector<kernel::AddressInfo> addresses;
            {
              py::gil_scoped_release release;
              addresses = ValueOrThrow(self.nl().ListAddresses(link));
            }
            py::list out;
            for (const auto& address : addresses) {
              py::dict d;
              d["link"] = address.link;
              d["cidr"] = address.cidr;
              out.append(d);
            }
            return out;
          },
          py::arg("link") = "", "Addresses ({link, cidr}) of one link, or of all when empty.")
      .def(
          "routes",
          [](PyNetlink& self, std::uint32_t table) {
            std::vector<kernel::RouteInfo> routes;
            {
              py::gil_scoped_release release;
              routes = ValueOrThrow(self.nl().ListRoutes(table));
            }
            py::list out;
            for (const auto& route : routes) out.append(RouteDict(route));
            return out;
          },
          py::arg("table") = kernel::kMainTable)
      .def_property_readonly("inode_url",
                             [](const PyNetlink& self) { return self.ns().InodeUrl(); });
}

}  // namespace nsmcert::python
