#include "python/src/status.h"

#include <cmath>
#include <limits>
#include <map>
#include <string>

namespace nsmcert::python {
namespace {

// The exception classes, created once when the module loads and kept for the life of the process
// (never released: they may be needed while the interpreter shuts down).
struct ErrorClasses {
  PyObject* base = nullptr;
  std::map<absl::StatusCode, PyObject*> by_code;
  PyObject* packet_expectation = nullptr;
};

ErrorClasses& Classes() {
  static ErrorClasses* classes = new ErrorClasses();
  return *classes;
}

PyObject* NewClass(py::module_& m, const char* name, py::tuple bases, const char* code,
                   const char* doc) {
  const std::string qualified = std::string("nsmcert.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
  if (cls == nullptr) throw py::error_already_set();
  if (PyObject_SetAttrString(cls, "code", py::str(code).ptr()) != 0) {
    throw py::error_already_set();
  }
  m.add_object(name, py::handle(cls));
  return cls;
}

void Raise(const StatusError& error) {
  const ErrorClasses& classes = Classes();
  PyObject* cls = classes.base;
  std::string message(error.status().message());
  const std::string code = absl::StatusCodeToString(error.status().code());
  if (error.kind() == StatusError::Kind::kPacketExpectation) {
    cls = classes.packet_expectation;
  } else if (auto it = classes.by_code.find(error.status().code()); it != classes.by_code.end()) {
    cls = it->second;
  } else {
    message = code + ": " + message;  // the class does not say which code it was
  }
  py::str text(message);
  PyObject* instance = PyObject_CallOneArg(cls, text.ptr());
  if (instance == nullptr) return;  // the constructor's own error stays set
  if (PyObject_SetAttrString(instance, "code", py::str(code).ptr()) != 0) {
    Py_DECREF(instance);
    return;
  }
  PyErr_SetObject(cls, instance);
  Py_DECREF(instance);
}

}  // namespace

StatusError::StatusError(absl::Status status, Kind kind)
    : status_(std::move(status)), kind_(kind), message_(status_.message()) {}

void RegisterErrors(py::module_& m) {
  ErrorClasses& classes = Classes();
  classes.base = NewClass(m, "NsmcertError", py::make_tuple(py::handle(PyExc_Exception)), "UNKNOWN",
                          "An error reported by the nsmcert engine. `code` names the status code "
                          "(\"NOT_FOUND\", ...); the message is the engine's.");
  const py::handle base(classes.base);
  struct Mapped {
    absl::StatusCode code;
    const char* name;
    PyObject* builtin;  // a second base, or null
    const char* doc;
  };
  const Mapped mapped[] = {
      {absl::StatusCode::kInvalidArgument, "InvalidArgumentError", PyExc_ValueError,
       "Bad input: the message names the field, file position or value at fault."},
      {absl::StatusCode::kNotFound, "NotFoundError", PyExc_LookupError,
       "A file, namespace, interface, program or element that does not exist."},
      {absl::StatusCode::kAlreadyExists, "AlreadyExistsError", nullptr,
       "Something with that name exists already."},
      {absl::StatusCode::kPermissionDenied, "PermissionDeniedError", PyExc_PermissionError,
       "The operation needs privileges the process lacks (most need root)."},
      {absl::StatusCode::kFailedPrecondition, "FailedPreconditionError", nullptr,
       "The object is not in a state that allows the operation."},
      {absl::StatusCode::kDeadlineExceeded, "DeadlineExceededError", PyExc_TimeoutError,
       "A wait ran out of time."},
      {absl::StatusCode::kUnavailable, "UnavailableError", PyExc_ConnectionError,
       "A peer could not be reached."},
      {absl::StatusCode::kInternal, "InternalError", nullptr,
       "The engine itself failed (I/O, a system call)."},
  };
  for (const Mapped& entry : mapped) {
    py::tuple bases;
    if (entry.builtin != nullptr) {
      bases = py::make_tuple(base, py::handle(entry.builtin));
    } else {
      bases = py::make_tuple(base);
    }
    const std::string code = absl::StatusCodeToString(entry.code);
    classes.by_code[entry.code] = NewClass(m, entry.name, bases, code.c_str(), entry.doc);
  }
  classes.packet_expectation =
      NewClass(m, "PacketExpectationError", py::make_tuple(base, py::handle(PyExc_AssertionError)),
               "DEADLINE_EXCEEDED",
               "A packet expectation did not hold: an expected packet did not come, or an "
               "unwanted one did. The message shows the template and the closest packets.");

  py::register_exception_translator([](std::exception_ptr pointer) {
    try {
      if (pointer) std::rethrow_exception(pointer);
    } catch (const StatusError& error) {
      Raise(error);
    }
  });
}

void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) throw StatusError(status);
}

absl::Duration SecondsArg(double seconds, const char* what) {
  if (std::isnan(seconds) || seconds < 0) {
    throw StatusError(absl::InvalidArgumentError(
        std::string(what) + ": expected seconds >= 0, got " + std::to_string(seconds)));
  }
  if (std::isinf(seconds)) return absl::InfiniteDuration();
  return absl::Seconds(seconds);
}

double ToSeconds(absl::Duration duration) {
  if (duration == absl::InfiniteDuration()) return std::numeric_limits<double>::infinity();
  return absl::ToDoubleSeconds(duration);
}

double UnixSecondsOf(absl::Time time) { return absl::ToDoubleSeconds(time - absl::UnixEpoch()); }

std::string DescribePythonError(py::error_already_set& error) {
  try {
    py::object traceback = py::module_::import("traceback");
    py::list lines = traceback.attr("format_exception")(error.type(), error.value(), error.trace());
    std::string text;
    for (py::handle line : lines) text += line.cast<std::string>();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  } catch (const py::error_already_set&) {
    return error.what();
  }
}

}  // namespace nsmcert::python
