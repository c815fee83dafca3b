// Daemon configuration from environment variables, declared once with defaults and help text, as
// the upstream cmds do (`NSM_NAME`, `NSM_LISTEN_ON`, ...). The same declarations produce `--help`.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nsmcert::sdk::daemon {

class EnvConfig {
 public:
  using Getenv = std::function<const char*(const char*)>;

  EnvConfig(std::string program, std::string summary);

  // Declarations: `out` is filled by Load(); it must outlive this object's Load() call.
  void String(std::string name, std::string* out, std::string default_value, std::string help);
  // A comma-separated list; empty items are dropped.
  void List(std::string name, std::vector<std::string>* out, std::string default_value,
            std::string help);
  // Go duration text (`750ms`, `10m`, `1m30s`).
  void Duration(std::string name, absl::Duration* out, std::string default_value, std::string help);
  // true/false/1/0/yes/no (case-insensitive).
  void Bool(std::string name, bool* out, std::string default_value, std::string help);
  void Uint(std::string name, unsigned* out, std::string default_value, std::string help);

  // Reads every declared variable (unset or empty → default). INVALID_ARGUMENT naming the variable
  // and the value on the first malformed one.
  absl::Status Load(const Getenv& getenv);
  absl::Status Load();

  // Usage text: summary and a table of variables, defaults and help.
  std::string Help() const;

  // Command-line handling shared by the daemons: `--help`/`-h` → prints Help() to stdout and
  // returns true (the caller exits 0). Any other argument is INVALID_ARGUMENT.
  absl::StatusOr<bool> HandleArgs(int argc, char** argv) const;

 private:
  struct Var {
    std::string name;
    std::string default_value;
    std::string help;
    std::function<absl::Status(const std::string&)> parse;
  };
  std::string program_;
  std::string summary_;
  std::vector<Var> vars_;
};

}  // namespace nsmcert::sdk::daemon
