// Errors and durations at the boundary between the C++ engine and Python.
//
// The engine returns absl::Status values; bindings turn a non-OK one into a C++ StatusError, and
// the translator RegisterErrors installs raises the Python exception for its code, carrying the
// status message unchanged:
//
//   NsmcertError                          base class of everything below; `.code` is the status
//   ├─ InvalidArgumentError (ValueError)  code name ("NOT_FOUND", ...)
//   ├─ NotFoundError (LookupError)
//   ├─ AlreadyExistsError
//   ├─ PermissionDeniedError (PermissionError)
//   ├─ FailedPreconditionError
//   ├─ DeadlineExceededError (TimeoutError)
//   ├─ UnavailableError (ConnectionError)
//   ├─ InternalError
//   └─ PacketExpectationError (AssertionError)   a packet expectation did not hold
//
// Other codes raise NsmcertError itself with `.code` set. Throw StatusError only from binding code,
// never across the engine's own library boundaries.
#ifndef NSMCERT_PYTHON_SRC_STATUS_H_
#define NSMCERT_PYTHON_SRC_STATUS_H_

#include <pybind11/pybind11.h>

#include <exception>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nsmcert::python {

namespace py = pybind11;

class StatusError : public std::exception {
 public:
  enum class Kind { kStatus, kPacketExpectation };

  explicit StatusError(absl::Status status, Kind kind = Kind::kStatus);
  const absl::Status& status() const { return status_; }
  Kind kind() const { return kind_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  absl::Status status_;
  Kind kind_;
  std::string message_;
};

// Creates the exception classes in `m` and installs the translator.
void RegisterErrors(py::module_& m);

// Throws StatusError for a non-OK status.
void ThrowIfError(const absl::Status& status);

template <class T>
T ValueOrThrow(absl::StatusOr<T> value) {
  if (!value.ok()) throw StatusError(value.status());
  return std::move(*value);
}

// Seconds from Python (a float) as a duration: inf is an infinite duration; a negative or NaN
// value raises InvalidArgumentError naming `what`.
absl::Duration SecondsArg(double seconds, const char* what);
// A duration as seconds (inf for an infinite one).
double ToSeconds(absl::Duration duration);
// A time as Unix seconds.
double UnixSecondsOf(absl::Time time);

// The text of the Python exception being handled, with its traceback, for error messages.
std::string DescribePythonError(py::error_already_set& error);

}  // namespace nsmcert::python

#endif  // NSMCERT_PYTHON_SRC_STATUS_H_
