// Daemon logging: one line per event on stderr with time, level and component. The level comes
// from NSM_LOG_LEVEL (TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC as upstream names them) and
// can be switched at run time: SIGUSR1 → TRACE, SIGUSR2 → back to the configured level (see
// signals.h). Thread-safe.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsmcert::sdk::daemon {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError };

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text);

// Sets the component name printed on every line and the configured level.
void InitLogging(std::string component, LogLevel level);
void SetLogLevel(LogLevel level);
// Back to the level given to InitLogging.
void RestoreConfiguredLogLevel();
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, std::string_view message);

// Builds one line and writes it when destroyed: `NSM_LOG(kInfo) << "listening on " << url;`
class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  std::ostringstream& stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace nsmcert::sdk::daemon

#define NSM_LOG(level)                                                                \
  if (!::nsmcert::sdk::daemon::LogEnabled(::nsmcert::sdk::daemon::LogLevel::level)) { \
  } else                                                                              \
    ::nsmcert::sdk::daemon::LogMessage(::nsmcert::sdk::daemon::LogLevel::level).stream()
