// Injectable time for the conformance framework: case deadlines, durations and timestamps in
// results. Tests use ManualClock so reported times are exact and nothing waits on the wall clock.
#ifndef NSMCERT_CONFORMANCE_CASES_CLOCK_H_
#define NSMCERT_CONFORMANCE_CASES_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace nsmcert::conformance {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // The process-wide wall clock. Thread-safe.
  static const Clock& Real();
};

// A clock that moves only when told to. Thread-safe.
class ManualClock : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000)) : now_(start) {}
  absl::Time Now() const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_CLOCK_H_
