// The conformance runner for Python: manifests, the catalogue, cases written in Python, runs and
// their results.
//
// A case written in Python is a class whose instances have `arrange`, `act` and `verify` methods
// (each optional) taking a CaseContext. A fresh instance is made per execution, as the C++ runner
// makes a fresh Case. Phases run on the runner's worker threads, holding the GIL while Python code
// runs. What a phase raises decides the verdict, as a C++ phase's status does (case.h):
//   CaseFailed, AssertionError (PacketExpectationError too)  -> the implementation failed
//   CaseSkipped                                               -> cannot be judged here
//   anything else                                             -> the harness broke (error)
// Python cases run in threads only: process isolation re-executes the nsmcert binary, which does
// not know them.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/cases/case.h"
#include "conformance/cases/case_context.h"
#include "conformance/cases/check.h"
#include "conformance/cases/evidence.h"
#include "conformance/cases/features.h"
#include "conformance/cases/registry.h"
#include "conformance/cases/roles.h"
#include "conformance/report/output_dir.h"
#include "conformance/report/results.h"
#include "conformance/runner/cli.h"
#include "conformance/runner/manifest.h"
#include "conformance/runner/runner.h"
#include "conformance/runner/selection.h"
#include "python/src/bindings.h"
#include "python/src/status.h"

namespace nsmcert::python {
namespace {

namespace conf = ::nsmcert::conformance;

// Python objects referenced from C++ objects that threads without the GIL copy and destroy: the
// reference count may only change under the GIL, so the object is released through a deleter that
// takes it.
using SharedPyObject = std::shared_ptr<py::object>;

SharedPyObject Share(py::object object) {
  return SharedPyObject(new py::object(std::move(object)), [](py::object* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
}

// What a phase sees. Valid only while the phase runs: the handle is cut afterwards, and a context
// kept by Python code raises FailedPreconditionError instead of reaching a finished case.
struct PyCaseContext {
  conf::CaseContext* context = nullptr;

  conf::CaseContext& get() const {
    if (context == nullptr) {
      throw StatusError(absl::FailedPreconditionError(
          "this CaseContext belongs to a phase that has ended; use it only inside the phase"));
    }
    return *context;
  }
};

conf::EvidenceKind EvidenceKindArg(const std::string& kind) {
  auto parsed = conf::ParseEvidenceKind(kind);
  if (!parsed) {
    throw StatusError(absl::InvalidArgumentError("evidence kind \"" + kind +
                                                 "\": expected pcap, log, note or data"));
  }
  return *parsed;
}

py::dict InfoDict(const conf::CaseInfo& info) {
  py::dict d;
  d["id"] = info.id;
  d["title"] = info.title;
  d["level"] = std::string(conf::LevelName(info.level));
  d["area"] = std::string(conf::AreaName(info.area));
  d["features"] = info.features;
  d["spec"] = info.spec;
  d["profile"] = std::string(conf::ProfileName(info.profile));
  d["timeout"] = ToSeconds(info.timeout);
  return d;
}

conf::CaseInfo CaseInfoArg(const std::string& id, const std::string& title,
                           const std::string& level, const std::string& area,
                           const std::vector<std::string>& features, const std::string& spec,
                           const std::string& profile, double timeout) {
  conf::CaseInfo info;
  info.id = id;
  info.title = title;
  auto parsed_level = conf::ParseLevel(level);
  if (!parsed_level) {
    throw StatusError(absl::InvalidArgumentError("case " + id + ": level \"" + level +
                                                 "\": expected MUST, SHOULD or MAY"));
  }
  info.level = *parsed_level;
  auto parsed_area = conf::ParseArea(area);
  if (!parsed_area) {
    throw StatusError(absl::InvalidArgumentError(
        "case " + id + ": area \"" + area +
        "\": expected registry, connectivity, selection, context, monitor, heal or negative"));
  }
  info.area = *parsed_area;
  info.features = features;
  info.spec = spec;
  auto parsed_profile = conf::ParseProfile(profile);
  if (!parsed_profile) {
    throw StatusError(absl::InvalidArgumentError("case " + id + ": profile \"" + profile +
                                                 "\": expected core or full"));
  }
  info.profile = *parsed_profile;
  info.timeout = SecondsArg(timeout, "timeout");
  ThrowIfError(conf::ValidateCaseInfo(info));
  return info;
}

// The verdict of a Python exception raised by a phase (see the file comment).
absl::Status PhaseStatusOf(py::error_already_set& error, conf::CaseContext& context,
                           const char* phase) {
  const std::string traceback = DescribePythonError(error);
  context.log().Write(std::string(phase) + " raised:\n" + traceback);
  py::module_ core = py::module_::import("nsmcert._core");
  std::string message = py::str(error.value());
  if (error.matches(core.attr("CaseSkipped"))) return conf::CaseSkip(message);
  if (error.matches(core.attr("CaseFailed")) || error.matches(PyExc_AssertionError)) {
    // A result's message is one line; the whole text is in the case log.
    if (const size_t newline = message.find('\n'); newline != std::string::npos) {
      message.resize(newline);
    }
    if (message.empty()) {
      // A bare `assert`: the last line of the traceback says where.
      const size_t frame = traceback.rfind("File \"");
      message = "assertion failed" +
                (frame == std::string::npos ? std::string() : " at " + traceback.substr(frame));
    }
    return conf::CaseFailure(message);
  }
  return absl::InternalError(std::string(phase) + " raised " + traceback);
}

// A case whose phases are methods of a Python object made by `factory` for this execution.
class PyCase final : public conf::Case {
 public:
  explicit PyCase(SharedPyObject factory) {
    py::gil_scoped_acquire gil;
    try {
      instance_ = Share((*factory)());
    } catch (py::error_already_set& error) {
      factory_error_ = DescribePythonError(error);
    }
  }

  absl::Status Arrange(conf::CaseContext& context) override { return Run("arrange", context); }
  absl::Status Act(conf::CaseContext& context) override { return Run("act", context); }
  absl::Status Assert(conf::CaseContext& context) override { return Run("verify", context); }

 private:
  absl::Status Run(const char* method, conf::CaseContext& context) {
    py::gil_scoped_acquire gil;
    if (instance_ == nullptr) {
      return absl::InternalError("creating the case raised " + factory_error_);
    }
    if (!py::hasattr(*instance_, method)) return absl::OkStatus();
    auto handle = std::make_shared<PyCaseContext>();
    handle->context = &context;
    py::object wrapper = py::cast(handle);
    absl::Status status;
    try {
      instance_->attr(method)(wrapper);
    } catch (py::error_already_set& error) {
      status = PhaseStatusOf(error, context, method);
    } catch (const StatusError& error) {
      // Raised by a binding the phase called and not caught in Python.
      status = absl::InternalError(std::string(method) + ": " + error.what());
    }
    handle->context = nullptr;
    return status;
  }

  SharedPyObject instance_;
  std::string factory_error_;
};

struct PyCaseDefinition {
  conf::CaseInfo info;
  SharedPyObject factory;
};

std::unique_ptr<PyCaseDefinition> DefineCase(py::object factory, const std::string& id,
                                             const std::string& title, const std::string& level,
                                             const std::string& area,
                                             const std::vector<std::string>& features,
                                             const std::string& spec, const std::string& profile,
                                             double timeout) {
  auto definition = std::make_unique<PyCaseDefinition>();
  definition->info = CaseInfoArg(id, title, level, area, features, spec, profile, timeout);
  definition->factory = Share(std::move(factory));
  return definition;
}

conf::Role RoleArg(const std::string& name) {
  auto role = conf::ParseRole(name);
  if (!role) {
    throw StatusError(absl::InvalidArgumentError(
        "role \"" + name + "\": expected registry, nsmgr, forwarder, nse or nsc"));
  }
  return *role;
}

conf::Isolation IsolationArg(const std::string& isolation) {
  if (isolation == "process") return conf::Isolation::kProcess;
  if (isolation == "thread") return conf::Isolation::kThread;
  throw StatusError(
      absl::InvalidArgumentError("isolation \"" + isolation + "\": expected process or thread"));
}

conf::Profile ProfileArg(const std::string& profile) {
  auto parsed = conf::ParseProfile(profile);
  if (!parsed) {
    throw StatusError(
        absl::InvalidArgumentError("profile \"" + profile + "\": expected core or full"));
  }
  return *parsed;
}

conf::RunResult RunCases(const conf::Manifest& manifest, const std::string& out_dir,
                         const std::optional<std::vector<PyCaseDefinition*>>& cases,
                         const std::string& profile, const std::string& filter, int jobs,
                         double timeout, double grace, const std::string& isolation,
                         const std::string& executable, const std::string& bin_dir,
                         bool write_bundle, bool console) {
  conf::RunOptions options;
  options.profile = ProfileArg(profile);
  options.filter = filter;
  options.jobs = jobs;
  options.default_timeout = SecondsArg(timeout, "timeout");
  options.grace = SecondsArg(grace, "grace");
  options.isolation = IsolationArg(isolation);
  options.out_dir = out_dir;
  options.executable = executable;
  options.role_settings.bin_dir = bin_dir;
  options.tool_version = std::string(conf::ToolVersion());
  options.write_bundle = write_bundle;
  options.console = console ? &std::cout : nullptr;

  conf::CaseRegistry own;
  const conf::CaseRegistry* registry = &conf::CaseRegistry::Global();
  if (cases) {
    if (options.isolation == conf::Isolation::kProcess) {
      throw StatusError(absl::InvalidArgumentError(
          "cases written in Python run with isolation=\"thread\": process isolation re-executes "
          "the nsmcert binary, which does not know them"));
    }
    for (PyCaseDefinition* definition : *cases) {
      SharedPyObject factory = definition->factory;
      ThrowIfError(own.Register(definition->info, [factory]() -> std::unique_ptr<conf::Case> {
        return std::make_unique<PyCase>(factory);
      }));
    }
    registry = &own;
  } else if (auto errors = registry->errors(); !errors.empty()) {
    throw StatusError(absl::FailedPreconditionError("the case catalogue is broken: " +
                                                    std::string(errors.front().message())));
  }
  conf::Runner runner(*registry, manifest, std::move(options));
  absl::StatusOr<conf::RunResult> result;
  {
    py::gil_scoped_release release;
    result = runner.Run();
    std::cout.flush();
  }
  return ValueOrThrow(std::move(result));
}

py::dict SummaryDict(const conf::RunResult& result) {
  const conf::RunSummary summary = conf::Summarize(result);
  py::dict counts;
  for (conf::CaseStatus status : conf::kAllStatuses) {
    counts[py::str(std::string(conf::CaseStatusName(status)))] = summary.count(status);
  }
  py::dict d;
  d["total"] = summary.total;
  d["counts"] = counts;
  d["failed_must"] = summary.failed_must;
  d["unjudged_must"] = summary.unjudged_must;
  d["errors"] = summary.errors;
  d["exit_code"] = summary.exit_code;
  d["verdict"] = summary.verdict;
  d["explanation"] = summary.explanation;
  return d;
}

std::optional<double> OptionalTime(const std::optional<absl::Time>& time) {
  if (!time) return std::nullopt;
  return UnixSecondsOf(*time);
}

conf::RunResult LoadResults(const std::string& path) {
  std::filesystem::path file(path);
  std::error_code error;
  if (std::filesystem::is_directory(file, error)) file /= std::string(conf::kResultsFileName);
  std::ifstream in(file);
  if (!in) throw StatusError(absl::NotFoundError("cannot read " + file.string()));
  nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    throw StatusError(absl::InvalidArgumentError(file.string() + ": not valid JSON"));
  }
  auto result = conf::RunResultFromJson(json);
  if (!result.ok()) {
    throw StatusError(
        absl::InvalidArgumentError(file.string() + ": " + std::string(result.status().message())));
  }
  return std::move(*result);
}

}  // namespace

void BindRunner(py::module_& m) {
  // Python phases raise these to give a verdict (see the file comment).
  py::object case_failed = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
      "nsmcert.CaseFailed",
      "Raised by a case phase: the implementation did not do what the spec requires.", nullptr,
      nullptr));
  py::object case_skipped = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
      "nsmcert.CaseSkipped", "Raised by a case phase: the case cannot be judged here.", nullptr,
      nullptr));
  if (!case_failed || !case_skipped) throw py::error_already_set();
  m.attr("CaseFailed") = case_failed;
  m.attr("CaseSkipped") = case_skipped;

  // ---- manifests ----
  py::class_<conf::RoleSpec>(m, "RoleSpec", "How a manifest fills one role.")
      .def_property_readonly(
          "role", [](const conf::RoleSpec& r) { return std::string(conf::RoleName(r.role)); })
      .def_property_readonly("implementation",
                             [](const conf::RoleSpec& r) {
                               return std::string(conf::ImplementationName(r.implementation));
                             })
      .def_readonly("command", &conf::RoleSpec::command)
      .def_readonly("shell", &conf::RoleSpec::shell)
      .def_readonly("env", &conf::RoleSpec::env)
      .def_readonly("address", &conf::RoleSpec::address)
      .def_property_readonly("startup_timeout",
                             [](const conf::RoleSpec& r) { return ToSeconds(r.startup_timeout); })
      .def_readonly("declared", &conf::RoleSpec::declared)
      .def_property_readonly("external",
                             [](const conf::RoleSpec& r) {
                               return r.implementation == conf::Implementation::kExternal;
                             })
      .def("__repr__", [](const conf::RoleSpec& r) {
        return "<RoleSpec " + std::string(conf::RoleName(r.role)) + " " +
               std::string(conf::ImplementationName(r.implementation)) + ">";
      });
  py::class_<conf::Manifest>(m, "Manifest",
                             "Which implementation is under test and how to reach it.")
      .def_readonly("source", &conf::Manifest::source)
      .def_readonly("vendor", &conf::Manifest::vendor)
      .def_readonly("product", &conf::Manifest::product)
      .def_readonly("version", &conf::Manifest::version)
      .def_readonly("description", &conf::Manifest::description)
      .def_readonly("features", &conf::Manifest::features)
      .def_property_readonly("roles",
                             [](const conf::Manifest& manifest) {
                               py::dict roles;
                               for (conf::Role role : conf::kAllRoles) {
                                 roles[py::str(std::string(conf::RoleName(role)))] =
                                     py::cast(manifest.role(role));
                               }
                               return roles;
                             })
      .def(
          "role",
          [](const conf::Manifest& manifest, const std::string& name) {
            return manifest.role(RoleArg(name));
          },
          py::arg("name"))
      .def("claims", &conf::Manifest::Claims, py::arg("feature"))
      .def("missing_features", &conf::Manifest::MissingFeatures, py::arg("required"))
      .def("__repr__", [](const conf::Manifest& manifest) {
        return "<Manifest " + manifest.vendor + " " + manifest.product + " " + manifest.version +
               ">";
      });
  m.def(
      "load_manifest",
      [](const std::string& path) { return ValueOrThrow(conf::LoadManifestFile(path)); },
      py::arg("path"), "Reads and validates a manifest; errors name file:line:column and field.");
  m.def(
      "parse_manifest",
      [](const std::string& text, const std::string& source_name) {
        return ValueOrThrow(conf::ParseManifest(text, source_name));
      },
      py::arg("text"), py::arg("source_name") = "<string>");
  m.def(
      "expand_template",
      [](const std::string& text, const std::map<std::string, std::string>& values) {
        return ValueOrThrow(conf::ExpandTemplate(text, values));
      },
      py::arg("text"), py::arg("values"),
      "Expands manifest {variables}; unknown or missing ones raise InvalidArgumentError.");
  m.def(
      "known_features",
      [] {
        py::dict out;
        for (const auto& feature : conf::KnownFeatures()) {
          out[py::str(std::string(feature.name))] = std::string(feature.description);
        }
        return out;
      },
      "Feature name -> what claiming it means.");

  // ---- cases ----
  py::class_<PyCaseContext, std::shared_ptr<PyCaseContext>>(
      m, "CaseContext", "What a phase of a case receives. Valid only while the phase runs.")
      .def_property_readonly("info",
                             [](const PyCaseContext& c) { return InfoDict(c.get().info()); })
      .def_property_readonly("manifest", [](const PyCaseContext& c) { return c.get().manifest(); })
      .def_property_readonly(
          "case_dir", [](const PyCaseContext& c) { return c.get().evidence().dir().string(); })
      .def_property_readonly(
          "remaining", [](const PyCaseContext& c) { return ToSeconds(c.get().remaining()); },
          "Seconds left before the runner stops waiting for the case.")
      .def_property_readonly("cancelled",
                             [](const PyCaseContext& c) { return c.get().cancelled(); })
      .def(
          "log", [](const PyCaseContext& c, const std::string& line) { c.get().log().Write(line); },
          py::arg("line"), "A timestamped line in the case's case.log.")
      .def(
          "check",
          [](const PyCaseContext& c, bool condition, const std::string& what) {
            c.get().Check(conf::Expect(condition, what));
          },
          py::arg("condition"), py::arg("what"),
          "A soft check: records a failure \"expected <what>\" and goes on.")
      .def(
          "fail_later",
          [](const PyCaseContext& c, const std::string& message) {
            c.get().Check(conf::CaseFailure(message));
          },
          py::arg("message"), "Records a failure and goes on; the case fails after its phases.")
      .def(
          "evidence_file",
          [](const PyCaseContext& c, const std::string& kind, const std::string& name,
             const std::string& description) {
            return ValueOrThrow(
                       c.get().evidence().NewFile(EvidenceKindArg(kind), name, description))
                .string();
          },
          py::arg("kind"), py::arg("name"), py::arg("description") = "",
          "Reserves a file in the case directory (kind: pcap, log, note or data); returns its "
          "path.")
      .def(
          "write_evidence",
          [](const PyCaseContext& c, const std::string& kind, const std::string& name,
             const std::string& text, const std::string& description) {
            ThrowIfError(
                c.get().evidence().WriteText(EvidenceKindArg(kind), name, text, description));
          },
          py::arg("kind"), py::arg("name"), py::arg("text"), py::arg("description") = "")
      .def(
          "copy_evidence",
          [](const PyCaseContext& c, const std::string& kind, const std::string& source,
             const std::string& name, const std::string& description) {
            ThrowIfError(
                c.get().evidence().CopyFile(EvidenceKindArg(kind), source, name, description));
          },
          py::arg("kind"), py::arg("source"), py::arg("name"), py::arg("description") = "")
      .def(
          "start_role",
          [](const PyCaseContext& c, const std::string& role, const std::string& name,
             const std::string& node, const py::object& netns, const std::string& listen_url,
             const std::map<std::string, std::string>& template_values,
             const std::map<std::string, std::string>& reference_env,
             const std::vector<std::string>& health_services) {
            conf::RoleStartOptions options;
            options.name = name;
            options.node = node;
            options.netns_path = NetnsPathArg(netns);
            options.listen_url = listen_url;
            options.template_values = template_values;
            options.reference_env = reference_env;
            options.health_services = health_services;
            conf::CaseContext& context = c.get();
            const conf::Role parsed = RoleArg(role);
            py::gil_scoped_release release;
            return ValueOrThrow(context.roles().Start(parsed, std::move(options)));
          },
          py::arg("role"), py::arg("name") = "", py::arg("node") = "",
          py::arg("netns") = py::none(), py::arg("listen_url") = "",
          py::arg("template_values") = std::map<std::string, std::string>{},
          py::arg("reference_env") = std::map<std::string, std::string>{},
          py::arg("health_services") = std::vector<std::string>{},
          "Starts (or reaches) a role as the manifest says, exactly as C++ cases do, and waits "
          "for its health. Its log becomes the case's evidence.");

  py::class_<conf::RunningRole>(
      m, "RunningRole",
      "A role of a case, started or reached as the manifest says (conformance/cases/roles.h). "
      "Stops what it started when collected.")
      .def_property_readonly(
          "role", [](const conf::RunningRole& r) { return std::string(conf::RoleName(r.role())); })
      .def_property_readonly("implementation",
                             [](const conf::RunningRole& r) {
                               return std::string(conf::ImplementationName(r.implementation()));
                             })
      .def_property_readonly("name", &conf::RunningRole::name)
      .def_property_readonly("url", &conf::RunningRole::url)
      .def_property_readonly("work_dir",
                             [](const conf::RunningRole& r) { return r.work_dir().string(); })
      .def_property_readonly("supervised", &conf::RunningRole::supervised)
      .def_property_readonly("running", &conf::RunningRole::running)
      .def(
          "kill",
          [](conf::RunningRole& r) {
            py::gil_scoped_release release;
            ThrowIfError(r.Kill());
          },
          "SIGKILL: a crash, as the harness sees it.")
      .def(
          "stop",
          [](conf::RunningRole& r, double grace) {
            const absl::Duration d = SecondsArg(grace, "grace");
            py::gil_scoped_release release;
            ThrowIfError(r.Stop(d));
          },
          py::arg("grace") = 3.0)
      .def(
          "restart",
          [](conf::RunningRole& r, double timeout) {
            const absl::Duration d = SecondsArg(timeout, "timeout");
            py::gil_scoped_release release;
            ThrowIfError(r.Restart(d));
          },
          py::arg("timeout") = 30.0, "Starts it again (same command and URL) and waits for health.")
      .def(
          "wait_healthy",
          [](conf::RunningRole& r, double timeout) {
            const absl::Duration d = SecondsArg(timeout, "timeout");
            py::gil_scoped_release release;
            ThrowIfError(r.WaitHealthy(d));
          },
          py::arg("timeout") = 30.0)
      .def("log_tail", &conf::RunningRole::LogTail, py::arg("lines") = 20)
      .def("__repr__", [](const conf::RunningRole& r) {
        return "<RunningRole " + r.name() + " at " + r.url() + ">";
      });
  m.def(
      "find_reference_binary",
      [](const std::string& role, const std::string& bin_dir) {
        conf::RoleSettings settings;
        settings.bin_dir = bin_dir;
        return ValueOrThrow(conf::FindReferenceBinary(RoleArg(role), settings)).string();
      },
      py::arg("role"), py::arg("bin_dir") = "",
      "Where the reference daemon of a role is, by the runner's rule (roles.h).");
  m.def(
      "health_services_of",
      [](const std::string& role) { return conf::HealthServicesOf(RoleArg(role)); },
      py::arg("role"), "The gRPC services a role must report SERVING.");

  py::class_<PyCaseDefinition>(m, "CaseDefinition",
                               "A case written in Python: its metadata and a factory making a "
                               "fresh object with arrange/act/verify methods per execution.")
      .def(py::init(&DefineCase), py::arg("factory"), py::arg("id"), py::arg("title"),
           py::arg("level") = "MUST", py::arg("area") = "connectivity",
           py::arg("features") = std::vector<std::string>{}, py::arg("spec") = "",
           py::arg("profile") = "core", py::arg("timeout") = 0.0)
      .def_property_readonly("info", [](const PyCaseDefinition& d) { return InfoDict(d.info); })
      .def_property_readonly("id", [](const PyCaseDefinition& d) { return d.info.id; });

  m.def(
      "list_cases",
      [](const std::string& profile, const std::string& filter) {
        const auto parsed = ValueOrThrow(conf::CaseFilter::Parse(filter));
        py::list out;
        for (const conf::CaseEntry* entry : conf::SelectCases(
                 conf::CaseRegistry::Global().Entries(), ProfileArg(profile), parsed)) {
          out.append(InfoDict(entry->info));
        }
        return out;
      },
      py::arg("profile") = "full", py::arg("filter") = "",
      "The catalogue's cases (as dicts) in the profile that match the filter.");

  // ---- results ----
  py::class_<conf::Evidence>(m, "Evidence", "A file a case left, relative to the run's output.")
      .def_property_readonly(
          "kind",
          [](const conf::Evidence& e) { return std::string(conf::EvidenceKindName(e.kind)); })
      .def_readonly("path", &conf::Evidence::path)
      .def_readonly("description", &conf::Evidence::description)
      .def("__repr__", [](const conf::Evidence& e) { return "<Evidence " + e.path + ">"; });
  py::class_<conf::CaseResult>(m, "CaseResult", "The outcome of one case.")
      .def_property_readonly("id", [](const conf::CaseResult& r) { return r.info.id; })
      .def_property_readonly("title", [](const conf::CaseResult& r) { return r.info.title; })
      .def_property_readonly(
          "level",
          [](const conf::CaseResult& r) { return std::string(conf::LevelName(r.info.level)); })
      .def_property_readonly(
          "area",
          [](const conf::CaseResult& r) { return std::string(conf::AreaName(r.info.area)); })
      .def_property_readonly("info", [](const conf::CaseResult& r) { return InfoDict(r.info); })
      .def_property_readonly(
          "status",
          [](const conf::CaseResult& r) { return std::string(conf::CaseStatusName(r.status)); },
          "\"pass\", \"fail\", \"skip\", \"n-a\" or \"error\".")
      .def_readonly("message", &conf::CaseResult::message)
      .def_readonly("details", &conf::CaseResult::details)
      .def_readonly("phase", &conf::CaseResult::phase)
      .def_readonly("missing_features", &conf::CaseResult::missing_features)
      .def_property_readonly("started",
                             [](const conf::CaseResult& r) { return OptionalTime(r.started); })
      .def_property_readonly("duration",
                             [](const conf::CaseResult& r) { return ToSeconds(r.duration); })
      .def_property_readonly("timeout",
                             [](const conf::CaseResult& r) { return ToSeconds(r.timeout); })
      .def_readonly("evidence", &conf::CaseResult::evidence)
      .def("__repr__", [](const conf::CaseResult& r) {
        return "<CaseResult " + r.info.id + " " + std::string(conf::CaseStatusName(r.status)) + ">";
      });
  py::class_<conf::RunResult>(m, "RunResult", "A conformance run: its settings and every case.")
      .def_readonly("tool_version", &conf::RunResult::tool_version)
      .def_property_readonly(
          "profile",
          [](const conf::RunResult& r) { return std::string(conf::ProfileName(r.profile)); })
      .def_readonly("filter", &conf::RunResult::filter)
      .def_readonly("jobs", &conf::RunResult::jobs)
      .def_readonly("isolation", &conf::RunResult::isolation)
      .def_readonly("host", &conf::RunResult::host)
      .def_property_readonly("started",
                             [](const conf::RunResult& r) { return UnixSecondsOf(r.started); })
      .def_property_readonly("finished",
                             [](const conf::RunResult& r) { return UnixSecondsOf(r.finished); })
      .def_property_readonly("manifest",
                             [](const conf::RunResult& r) {
                               py::dict d;
                               d["path"] = r.manifest.path;
                               d["vendor"] = r.manifest.vendor;
                               d["product"] = r.manifest.product;
                               d["version"] = r.manifest.version;
                               d["roles"] = r.manifest.roles;
                               d["features"] = r.manifest.features;
                               return d;
                             })
      .def_readonly("cases", &conf::RunResult::cases)
      .def_property_readonly("summary", &SummaryDict,
                             "Counts per status, failed MUST ids, exit code, verdict, explanation.")
      .def_property_readonly("exit_code", &conf::ExitCodeFor,
                             "0 every applicable MUST passed, 1 the implementation failed, 2 the "
                             "harness failed.")
      .def(
          "to_json", [](const conf::RunResult& r) { return conf::ToJson(r).dump(2); },
          "results.json's text.")
      .def("__repr__", [](const conf::RunResult& r) {
        return "<RunResult " + std::to_string(r.cases.size()) + " case(s), exit code " +
               std::to_string(conf::ExitCodeFor(r)) + ">";
      });

  m.def("run_cases", &RunCases, py::arg("manifest"), py::arg("out_dir"),
        py::arg("cases") = py::none(), py::arg("profile") = "core", py::arg("filter") = "",
        py::arg("jobs") = 1, py::arg("timeout") = 120.0, py::arg("grace") = 10.0,
        py::arg("isolation") = "thread", py::arg("executable") = "", py::arg("bin_dir") = "",
        py::arg("write_bundle") = true, py::arg("console") = false,
        "Runs cases (the catalogue, or the given CaseDefinitions) against `manifest` and writes "
        "results, reports and the bundle to `out_dir`.");
  m.def("load_results", &LoadResults, py::arg("path"),
        "Reads results.json (or the results.json inside a run's output directory).");
  m.def("tool_version", [] { return std::string(conf::ToolVersion()); });
}

}  // namespace nsmcert::python
