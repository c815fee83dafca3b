#include "reference/sdk/daemon/log.h"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace nsmcert::sdk::daemon {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_configured{static_cast<int>(LogLevel::kInfo)};
std::mutex g_mu;
std::string* g_component = new std::string("nsmcert");  // leaked: used until exit

const char* Name(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return "TRAC";
    case LogLevel::kDebug:
      return "DEBU";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERRO";
  }
  return "????";
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text) {
  std::string upper;
  for (char c : text)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "TRACE") return LogLevel::kTrace;
  if (upper == "DEBUG") return LogLevel::kDebug;
  if (upper == "INFO" || upper.empty()) return LogLevel::kInfo;
  if (upper == "WARN" || upper == "WARNING") return LogLevel::kWarn;
  if (upper == "ERROR" || upper == "FATAL" || upper == "PANIC") return LogLevel::kError;
  return absl::InvalidArgumentError(absl::StrCat("log level \"", std::string(text),
                                                 "\": expected TRACE, DEBUG, INFO, WARN or ERROR"));
}

void InitLogging(std::string component, LogLevel level) {
  {
    std::lock_guard lock(g_mu);
    *g_component = std::move(component);
  }
  g_configured = static_cast<int>(level);
  g_level = static_cast<int>(level);
}

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

void RestoreConfiguredLogLevel() { g_level = g_configured.load(); }

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void LogLine(LogLevel level, std::string_view message) {
  std::string line =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()), " [",
                   Name(level), "] ");
  std::lock_guard lock(g_mu);
  absl::StrAppend(&line, *g_component, ": ", std::string(message), "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace nsmcert::sdk::daemon
