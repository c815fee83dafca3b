// nsmcert._core: the private extension module behind the `nsmcert` package. Users import
// `nsmcert`, which re-exports what they need; this module's layout may change.
#include <pybind11/pybind11.h>

#include <string>

#include "python/src/bindings.h"
#include "python/src/status.h"
#include "reference/kernel/netns.h"

namespace nsmcert::python {

std::string NetnsPathArg(const py::object& netns) {
  if (netns.is_none()) return "";
  if (py::hasattr(netns, "netns")) return NetnsPathArg(netns.attr("netns"));
  if (py::hasattr(netns, "path")) return netns.attr("path").cast<std::string>();
  std::string text = py::str(netns);
  if (text.empty() || text.front() == '/') return text;
  return std::string(kernel::kNamedNetNsDir) + "/" + text;
}

}  // namespace nsmcert::python

PYBIND11_MODULE(_core, m) {
  namespace python = nsmcert::python;
  m.doc() = "nsmcert engine bindings (private: import nsmcert instead)";
  m.attr("__version__") = NSMCERT_VERSION;
  python::RegisterErrors(m);
  python::BindKernel(m);
  python::BindTopology(m);
  python::BindProcess(m);
  python::BindPcap(m);
  python::BindRunner(m);
  python::BindMonitor(m);
}
