// conformance/harness topologies for Python: the YAML model, building and tearing down, run ids,
// the sweep of dead runs and the leak audit.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conformance/harness/leak_audit.h"
#include "conformance/harness/run_id.h"
#include "conformance/harness/sweep.h"
#include "conformance/harness/topology.h"
#include "conformance/harness/topology_spec.h"
#include "python/src/bindings.h"
#include "python/src/status.h"

namespace nsmcert::python {
namespace {

using harness::BuiltNode;
using harness::BuiltWorkload;
using harness::Topology;
using harness::TopologyNamespace;
using harness::TopologySpec;

std::unique_ptr<Topology> Build(const TopologySpec& spec, const std::optional<std::string>& run_id,
                                const std::optional<std::string>& marker_dir, bool handle_signals) {
  harness::TopologyOptions options;
  if (run_id) options.run_id = ValueOrThrow(harness::RunId::Parse(*run_id));
  if (marker_dir) options.marker_dir = *marker_dir;
  options.handle_signals = handle_signals;
  py::gil_scoped_release release;
  return ValueOrThrow(Topology::Build(spec, std::move(options)));
}

py::list LeakReportLines(const std::vector<std::string>& lines) {
  py::list out;
  for (const auto& line : lines) out.append(line);
  return out;
}

}  // namespace

void BindTopology(py::module_& m) {
  py::class_<harness::WorkloadSpec>(m, "WorkloadSpec",
                                    "A workload as the topology file declares it.")
      .def_readonly("name", &harness::WorkloadSpec::name)
      .def_property_readonly("role",
                             [](const harness::WorkloadSpec& w) {
                               return std::string(harness::WorkloadRoleName(w.role));
                             })
      .def("__repr__",
           [](const harness::WorkloadSpec& w) { return "<WorkloadSpec " + w.name + ">"; });
  py::class_<harness::NodeSpec>(m, "NodeSpec", "A node as the topology file declares it.")
      .def_readonly("name", &harness::NodeSpec::name)
      .def_property_readonly("address",
                             [](const harness::NodeSpec& n) { return n.address.ToString(); })
      .def_readonly("workloads", &harness::NodeSpec::workloads)
      .def("__repr__", [](const harness::NodeSpec& n) { return "<NodeSpec " + n.name + ">"; });
  py::class_<TopologySpec>(m, "TopologySpec",
                           "A parsed and validated topology (fixtures/topologies/*.yaml).")
      .def_readonly("name", &TopologySpec::name)
      .def_readonly("source", &TopologySpec::source)
      .def_property_readonly("underlay",
                             [](const TopologySpec& s) { return s.fabric.underlay.ToString(); })
      .def_property_readonly("mtu", [](const TopologySpec& s) { return s.fabric.mtu; })
      .def_readonly("nodes", &TopologySpec::nodes)
      .def("__repr__", [](const TopologySpec& s) { return "<TopologySpec " + s.name + ">"; });
  m.def(
      "load_topology_file",
      [](const std::string& path) { return ValueOrThrow(harness::LoadTopologyFile(path)); },
      py::arg("path"),
      "Reads and validates a topology file. Errors name file:line:column and the field.");
  m.def(
      "parse_topology",
      [](const std::string& text, const std::string& source_name) {
        return ValueOrThrow(harness::ParseTopology(text, source_name));
      },
      py::arg("text"), py::arg("source_name") = "<string>",
      "Parses and validates topology YAML; `source_name` prefixes error messages.");

  py::class_<TopologyNamespace>(m, "Namespace", "One network namespace of a built topology.")
      .def_readonly("element", &TopologyNamespace::element)
      .def_readonly("name", &TopologyNamespace::name)
      .def_readonly("path", &TopologyNamespace::path)
      .def_readonly("inode", &TopologyNamespace::inode)
      .def("__fspath__", [](const TopologyNamespace& ns) { return ns.path; })
      .def("__repr__", [](const TopologyNamespace& ns) { return "<Namespace " + ns.name + ">"; });
  py::class_<BuiltNode>(m, "Node", "A node of a built topology.")
      .def_readonly("name", &BuiltNode::name)
      .def_readonly("netns", &BuiltNode::netns)
      .def_property_readonly("underlay", [](const BuiltNode& n) { return n.underlay.ToString(); })
      .def_property_readonly("address",
                             [](const BuiltNode& n) { return n.underlay.address.ToString(); })
      .def_readonly("underlay_interface", &BuiltNode::underlay_interface)
      .def_readonly("fabric_link", &BuiltNode::fabric_link)
      .def("__repr__", [](const BuiltNode& n) { return "<Node " + n.name + ">"; });
  py::class_<BuiltWorkload>(m, "Workload", "A workload of a built topology.")
      .def_readonly("name", &BuiltWorkload::name)
      .def_readonly("node", &BuiltWorkload::node)
      .def_property_readonly(
          "role",
          [](const BuiltWorkload& w) { return std::string(harness::WorkloadRoleName(w.role)); })
      .def_readonly("netns", &BuiltWorkload::netns)
      .def("__repr__", [](const BuiltWorkload& w) { return "<Workload " + w.name + ">"; });

  py::class_<Topology>(m, "Topology",
                       "Network namespaces built from a TopologySpec. Owns them: teardown() (also "
                       "run when the object is collected) kills what runs inside and deletes "
                       "them.")
      .def_static("build", &Build, py::arg("spec"), py::arg("run_id") = py::none(),
                  py::arg("marker_dir") = py::none(), py::arg("handle_signals") = true,
                  "Builds the namespaces and links; on failure removes what was made and raises.")
      .def(
          "teardown",
          [](Topology& t) {
            py::gil_scoped_release release;
            ThrowIfError(t.Teardown());
          },
          "Kills processes inside, deletes the namespaces and the run marker. Idempotent.")
      .def_property_readonly("run_id", [](const Topology& t) { return t.run_id().str(); })
      .def_property_readonly("namespace_prefix",
                             [](const Topology& t) { return t.run_id().NamespacePrefix(); })
      .def_property_readonly("spec", &Topology::spec)
      .def_property_readonly("fabric", &Topology::fabric)
      .def_property_readonly("nodes", &Topology::nodes)
      .def_property_readonly("workloads", &Topology::workloads)
      .def(
          "node",
          [](const Topology& t, const std::string& name) {
            const BuiltNode* node = t.FindNode(name);
            if (node == nullptr) {
              throw StatusError(absl::NotFoundError("topology has no node \"" + name + "\""));
            }
            return *node;
          },
          py::arg("name"))
      .def(
          "workload",
          [](const Topology& t, const std::string& name) {
            const BuiltWorkload* workload = t.FindWorkload(name);
            if (workload == nullptr) {
              throw StatusError(absl::NotFoundError("topology has no workload \"" + name + "\""));
            }
            return *workload;
          },
          py::arg("name"))
      .def(
          "namespace",
          [](const Topology& t, const std::string& element) {
            const TopologyNamespace* ns = t.FindNamespace(element);
            if (ns == nullptr) {
              throw StatusError(absl::NotFoundError("topology has no element \"" + element + "\""));
            }
            return *ns;
          },
          py::arg("element"), "The namespace of \"fabric\", a node or a workload.")
      .def(
          "namespaces",
          [](const Topology& t) {
            std::vector<TopologyNamespace> out;
            for (const TopologyNamespace* ns : t.namespaces()) out.push_back(*ns);
            return out;
          },
          "All namespaces: fabric first, then nodes, then workloads.");

  m.def(
      "generate_run_id", [] { return harness::RunId::Generate().str(); },
      "A fresh run id (6 characters of [a-z0-9]).");
  m.def(
      "harness_prefix", [] { return std::string(harness::kHarnessNamePrefix); },
      "The prefix of every namespace the harness creates (\"nsmc-\").");
  m.def(
      "sweep_leftovers",
      [](const std::optional<std::string>& marker_dir) {
        harness::SweepOptions options;
        if (marker_dir) options.marker_dir = *marker_dir;
        harness::SweepReport report;
        {
          py::gil_scoped_release release;
          report = harness::SweepLeftovers(options);
        }
        py::dict out;
        out["removed_namespaces"] = report.removed_namespaces;
        out["killed_processes"] = report.killed_processes;
        out["removed_markers"] = report.removed_markers;
        out["failures"] = report.failures;
        return out;
      },
      py::arg("marker_dir") = py::none(),
      "Removes namespaces (and processes in them) of harness runs whose owner died.");

  py::class_<harness::LeakAudit>(m, "LeakAudit",
                                 "A snapshot of namespaces, links, routes, child processes and "
                                 "sockets, to list what appeared since.")
      .def_static(
          "begin",
          [](const std::string& namespace_prefix, bool include_current_namespace) {
            harness::AuditScope scope;
            scope.namespace_prefix = namespace_prefix;
            scope.include_current_namespace = include_current_namespace;
            py::gil_scoped_release release;
            return ValueOrThrow(harness::LeakAudit::Begin(scope));
          },
          py::arg("namespace_prefix") = std::string(harness::kHarnessNamePrefix),
          py::arg("include_current_namespace") = false)
      .def(
          "check",
          [](const harness::LeakAudit& audit) {
            harness::LeakReport report;
            {
              py::gil_scoped_release release;
              report = ValueOrThrow(audit.Check());
            }
            py::dict out;
            out["clean"] = report.clean();
            out["namespaces"] = LeakReportLines(report.namespaces);
            out["links"] = LeakReportLines(report.links);
            out["routes"] = LeakReportLines(report.routes);
            out["processes"] = LeakReportLines(report.processes);
            out["sockets"] = LeakReportLines(report.sockets);
            out["text"] = report.ToString();
            return out;
          },
          "What appeared since begin(): a dict with `clean`, one list per kind and `text`.");
}

}  // namespace nsmcert::python
