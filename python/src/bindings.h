// One Bind function per C++ area; module.cc calls them in order (errors first: the others raise
// through them).
#ifndef NSMCERT_PYTHON_SRC_BINDINGS_H_
#define NSMCERT_PYTHON_SRC_BINDINGS_H_

#include <pybind11/pybind11.h>

#include <string>

namespace nsmcert::python {

namespace py = pybind11;

void BindKernel(py::module_& m);    // bind_kernel.cc: named namespaces, a netlink subset
void BindTopology(py::module_& m);  // bind_topology.cc: topology specs, build/teardown, sweep
void BindProcess(py::module_& m);   // bind_process.cc: supervisor, processes, health probes
void BindPcap(py::module_& m);      // bind_pcap.cc: capture, decode, templates, verifier, senders
void BindRunner(py::module_& m);    // bind_runner.cc: manifests, cases, runs, results
void BindMonitor(py::module_& m);   // bind_monitor.cc: MonitorConnections streams

// A network namespace named from Python: None (the caller's), an absolute path, the name of a
// named namespace, or an object with a `path` attribute (Namespace) or a `netns` attribute (Node,
// Workload). Returns the path to open ("" for the caller's namespace).
std::string NetnsPathArg(const py::object& netns);

}  // namespace nsmcert::python

#endif  // NSMCERT_PYTHON_SRC_BINDINGS_H_
