// conformance/harness supervision for Python: the Supervisor, its processes and gRPC health probes.
//
// Python objects must never outlive the C++ objects they point at, and a pytest fixture wants to
// close a supervisor at a moment of its choosing. So a Supervisor and every Process taken from it
// share one state: the C++ supervisor behind a reader/writer lock. Operations hold the read side
// (with the GIL released while they block); close() takes the write side, destroys the supervisor
// (which kills and reaps what still runs), and later calls on any Process raise
// FailedPreconditionError instead of touching freed memory.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "conformance/harness/health.h"
#include "conformance/harness/process.h"
#include "python/src/bindings.h"
#include "python/src/status.h"

namespace nsmcert::python {
namespace {

using harness::ExitStatus;
using harness::Process;
using harness::Supervisor;

struct SupervisorState {
  std::shared_mutex mu;
  std::unique_ptr<Supervisor> supervisor;  // null once closed
  std::string log_dir;
};

class PyProcess {
 public:
  PyProcess(std::shared_ptr<SupervisorState> state, std::string name)
      : state_(std::move(state)), name_(std::move(name)) {}

  const std::string& name() const { return name_; }

  // Runs `fn(process)` under the read lock. Call with the GIL released when `fn` blocks.
  template <class F>
  auto With(F&& fn) const {
    std::shared_lock lock(state_->mu);
    if (state_->supervisor == nullptr) {
      throw StatusError(
          absl::FailedPreconditionError("process " + name_ + ": its supervisor was closed"));
    }
    Process* process = state_->supervisor->Find(name_);
    return fn(*process);
  }

  // The same, releasing the GIL for the duration.
  template <class F>
  auto Blocking(F&& fn) const {
    py::gil_scoped_release release;
    return With(std::forward<F>(fn));
  }

 private:
  std::shared_ptr<SupervisorState> state_;
  std::string name_;
};

class PySupervisor {
 public:
  static std::unique_ptr<PySupervisor> Create(const std::string& log_dir, bool handle_signals) {
    Supervisor::Options options;
    options.log_dir = log_dir;
    options.handle_signals = handle_signals;
    auto state = std::make_shared<SupervisorState>();
    {
      py::gil_scoped_release release;
      state->supervisor = ValueOrThrow(Supervisor::Create(std::move(options)));
    }
    state->log_dir = state->supervisor->log_dir();
    return std::unique_ptr<PySupervisor>(new PySupervisor(std::move(state)));
  }

  PyProcess Start(const std::string& name, const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, bool inherit_env,
                  const py::object& netns, const std::string& working_dir) {
    harness::ProcessSpec spec;
    spec.name = name;
    spec.argv = argv;
    for (const auto& [key, value] : env) spec.env.emplace_back(key, value);
    spec.inherit_env = inherit_env;
    spec.netns_path = NetnsPathArg(netns);
    spec.working_dir = working_dir;
    {
      py::gil_scoped_release release;
      std::shared_lock lock(state_->mu);
      if (state_->supervisor == nullptr) {
        throw StatusError(absl::FailedPreconditionError("the supervisor was closed"));
      }
      ValueOrThrow(state_->supervisor->Start(std::move(spec)));
    }
    return PyProcess(state_, name);
  }

  std::optional<PyProcess> Find(const std::string& name) {
    std::shared_lock lock(state_->mu);
    if (state_->supervisor == nullptr || state_->supervisor->Find(name) == nullptr) {
      return std::nullopt;
    }
    return PyProcess(state_, name);
  }

  void StopAll(double grace) {
    const absl::Duration duration = SecondsArg(grace, "grace");
    py::gil_scoped_release release;
    std::shared_lock lock(state_->mu);
    if (state_->supervisor != nullptr) ThrowIfError(state_->supervisor->StopAll(duration));
  }

  // Destroys the supervisor: every process still running is killed and reaped.
  void Close() {
    std::unique_ptr<Supervisor> closing;
    py::gil_scoped_release release;
    {
      std::unique_lock lock(state_->mu);
      closing = std::move(state_->supervisor);
    }
    closing.reset();
  }

  bool closed() {
    std::shared_lock lock(state_->mu);
    return state_->supervisor == nullptr;
  }
  const std::string& log_dir() const { return state_->log_dir; }

 private:
  explicit PySupervisor(std::shared_ptr<SupervisorState> state) : state_(std::move(state)) {}
  std::shared_ptr<SupervisorState> state_;
};

harness::HealthTarget Target(const std::string& url, const py::object& netns) {
  harness::HealthTarget target;
  target.url = url;
  target.netns_path = NetnsPathArg(netns);
  return target;
}

}  // namespace

void BindProcess(py::module_& m) {
  py::class_<ExitStatus>(m, "ExitStatus", "How a process ended.")
      .def_readonly("signaled", &ExitStatus::signaled)
      .def_readonly("code", &ExitStatus::code, "Exit code when not signaled.")
      .def_readonly("signal", &ExitStatus::signal, "Terminating signal when signaled.")
      .def_property_readonly("success", &ExitStatus::success)
      .def("__str__", &ExitStatus::ToString)
      .def("__repr__", [](const ExitStatus& s) { return "<ExitStatus " + s.ToString() + ">"; })
      .def("__eq__", [](const ExitStatus& a, const ExitStatus& b) { return a == b; });

  py::class_<PyProcess>(m, "Process",
                        "A supervised process. Signals go to its whole process group.")
      .def_property_readonly("name", &PyProcess::name)
      .def_property_readonly(
          "log_path",
          [](const PyProcess& p) { return p.With([](Process& x) { return x.log_path(); }); })
      .def_property_readonly("pid",
                             [](const PyProcess& p) {
                               return p.With([](Process& x) { return static_cast<int>(x.pid()); });
                             })
      .def_property_readonly(
          "running",
          [](const PyProcess& p) { return p.With([](Process& x) { return x.running(); }); })
      .def_property_readonly(
          "starts",
          [](const PyProcess& p) { return p.With([](Process& x) { return x.starts(); }); })
      .def_property_readonly(
          "last_exit",
          [](const PyProcess& p) { return p.With([](Process& x) { return x.last_exit(); }); })
      .def_property_readonly(
          "argv",
          [](const PyProcess& p) { return p.With([](Process& x) { return x.spec().argv; }); })
      .def(
          "kill",
          [](const PyProcess& p) { p.Blocking([](Process& x) { ThrowIfError(x.Kill()); }); },
          "SIGKILL to the group; returns once reaped.")
      .def(
          "stop",
          [](const PyProcess& p, double grace) {
            const absl::Duration d = SecondsArg(grace, "grace");
            p.Blocking([d](Process& x) { ThrowIfError(x.Stop(d)); });
          },
          py::arg("grace") = 5.0, "SIGTERM, then SIGKILL after `grace` seconds.")
      .def("pause",
           [](const PyProcess& p) { p.Blocking([](Process& x) { ThrowIfError(x.Pause()); }); })
      .def("resume",
           [](const PyProcess& p) { p.Blocking([](Process& x) { ThrowIfError(x.Resume()); }); })
      .def(
          "signal",
          [](const PyProcess& p, int signal) {
            p.Blocking([signal](Process& x) { ThrowIfError(x.Signal(signal)); });
          },
          py::arg("signal"))
      .def(
          "restart",
          [](const PyProcess& p, double grace) {
            const absl::Duration d = SecondsArg(grace, "grace");
            p.Blocking([d](Process& x) { ThrowIfError(x.Restart(d)); });
          },
          py::arg("grace") = 5.0, "Stops it if it runs, then starts it again (same log file).")
      .def(
          "wait",
          [](const PyProcess& p, double timeout) {
            const absl::Duration d = SecondsArg(timeout, "timeout");
            return p.Blocking([d](Process& x) { return ValueOrThrow(x.Wait(d)); });
          },
          py::arg("timeout") = 10.0, "Waits for the running incarnation to end; its ExitStatus.")
      .def(
          "wait_healthy",
          [](const PyProcess& p, const std::string& url, const std::vector<std::string>& services,
             double timeout, const py::object& netns) {
            const absl::Duration d = SecondsArg(timeout, "timeout");
            const harness::HealthTarget target = Target(url, netns);
            p.Blocking([&](Process& x) { ThrowIfError(x.WaitHealthy(target, services, d)); });
          },
          py::arg("url"), py::arg("services") = std::vector<std::string>{},
          py::arg("timeout") = 10.0, py::arg("netns") = py::none(),
          "Probes grpc.health.v1 until every service is SERVING; gives up (with the exit status "
          "and log tail) as soon as the process dies.")
      .def("read_log",
           [](const PyProcess& p) { return p.With([](Process& x) { return x.ReadLog(); }); })
      .def(
          "log_tail",
          [](const PyProcess& p, int lines) {
            return p.With([lines](Process& x) { return x.LogTail(lines); });
          },
          py::arg("lines") = 20)
      .def("__repr__", [](const PyProcess& p) { return "<Process " + p.name() + ">"; });

  py::class_<PySupervisor>(m, "Supervisor",
                           "Starts daemons inside namespaces with an environment and a log file "
                           "per process, and kills, stops, pauses or restarts them on demand.")
      .def(py::init(&PySupervisor::Create), py::arg("log_dir") = "",
           py::arg("handle_signals") = true,
           "`log_dir` is created if missing (\"\" = a new temporary directory).")
      .def("start", &PySupervisor::Start, py::arg("name"), py::arg("argv"),
           py::arg("env") = std::map<std::string, std::string>{}, py::arg("inherit_env") = true,
           py::arg("netns") = py::none(), py::arg("working_dir") = "",
           "Starts `argv` (argv[0] a path or a name in PATH) in `netns`; its output goes to "
           "<log_dir>/<name>.log.")
      .def("find", &PySupervisor::Find, py::arg("name"))
      .def("stop_all", &PySupervisor::StopAll, py::arg("grace") = 5.0)
      .def("close", &PySupervisor::Close,
           "Kills and reaps every process still running. The supervisor and its processes "
           "cannot be used afterwards.")
      .def_property_readonly("closed", &PySupervisor::closed)
      .def_property_readonly("log_dir", &PySupervisor::log_dir);

  m.def(
      "check_health",
      [](const std::string& url, const std::string& service, double timeout,
         const py::object& netns) {
        const absl::Duration d = SecondsArg(timeout, "timeout");
        const harness::HealthTarget target = Target(url, netns);
        py::gil_scoped_release release;
        return std::string(
            harness::ServingStatusName(ValueOrThrow(harness::CheckHealth(target, service, d))));
      },
      py::arg("url"), py::arg("service") = "", py::arg("timeout") = 1.0,
      py::arg("netns") = py::none(),
      "One grpc.health.v1 Check: \"SERVING\", \"NOT_SERVING\", \"SERVICE_UNKNOWN\" or "
      "\"UNKNOWN\". A tcp:// URL inside a node needs that node's `netns`.");
  m.def(
      "wait_healthy",
      [](const std::string& url, const std::vector<std::string>& services, double timeout,
         const py::object& netns) {
        const absl::Duration d = SecondsArg(timeout, "timeout");
        const harness::HealthTarget target = Target(url, netns);
        py::gil_scoped_release release;
        ThrowIfError(harness::WaitHealthy(target, services, d));
      },
      py::arg("url"), py::arg("services") = std::vector<std::string>{}, py::arg("timeout") = 10.0,
      py::arg("netns") = py::none());
  m.def(
      "grpc_target_of",
      [](const std::string& url) { return ValueOrThrow(harness::GrpcTargetOf(url)); },
      py::arg("url"), "The gRPC target of an NSM URL (tcp://h:p -> h:p; unix URLs verbatim).");
}

}  // namespace nsmcert::python
