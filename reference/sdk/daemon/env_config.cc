#include "reference/sdk/daemon/env_config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "reference/sdk/tools/duration.h"

namespace nsmcert::sdk::daemon {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

EnvConfig::EnvConfig(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void EnvConfig::String(std::string name, std::string* out, std::string default_value,
                       std::string help) {
  vars_.push_back(
      {std::move(name), std::move(default_value), std::move(help), [out](const std::string& v) {
         *out = v;
         return absl::OkStatus();
       }});
}

void EnvConfig::List(std::string name, std::vector<std::string>* out, std::string default_value,
                     std::string help) {
  vars_.push_back(
      {std::move(name), std::move(default_value), std::move(help), [out](const std::string& v) {
         out->clear();
         std::stringstream in(v);
         std::string item;
         while (std::getline(in, item, ',')) {
           item = Trim(item);
           if (!item.empty()) out->push_back(item);
         }
         return absl::OkStatus();
       }});
}

void EnvConfig::Duration(std::string name, absl::Duration* out, std::string default_value,
                         std::string help) {
  vars_.push_back({std::move(name), std::move(default_value), std::move(help),
                   [out](const std::string& v) -> absl::Status {
                     auto d = tools::ParseGoDuration(v);
                     if (!d.ok()) return d.status();
                     *out = *d;
                     return absl::OkStatus();
                   }});
}

void EnvConfig::Bool(std::string name, bool* out, std::string default_value, std::string help) {
  vars_.push_back({std::move(name), std::move(default_value), std::move(help),
                   [out](const std::string& v) -> absl::Status {
                     std::string lower = v;
                     std::transform(lower.begin(), lower.end(), lower.begin(),
                                    [](unsigned char c) { return std::tolower(c); });
                     if (lower == "true" || lower == "1" || lower == "yes") {
                       *out = true;
                     } else if (lower == "false" || lower == "0" || lower == "no") {
                       *out = false;
                     } else {
                       return absl::InvalidArgumentError("expected true or false");
                     }
                     return absl::OkStatus();
                   }});
}

void EnvConfig::Uint(std::string name, unsigned* out, std::string default_value, std::string help) {
  vars_.push_back(
      {std::move(name), std::move(default_value), std::move(help),
       [out](const std::string& v) -> absl::Status {
         if (v.empty() || v.size() > 9 ||
             !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
           return absl::InvalidArgumentError("expected a non-negative integer");
         }
         *out = static_cast<unsigned>(std::stoul(v));
         return absl::OkStatus();
       }});
}

absl::Status EnvConfig::Load(const Getenv& getenv) {
  for (const Var& var : vars_) {
    const char* raw = getenv(var.name.c_str());
    std::string value = raw != nullptr && *raw != '\0' ? Trim(raw) : var.default_value;
    if (absl::Status s = var.parse(value); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(var.name, "=\"", value, "\": ", s.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status EnvConfig::Load() {
  return Load([](const char* name) { return std::getenv(name); });
}

std::string EnvConfig::Help() const {
  std::string out = absl::StrCat("Usage: ", program_, " [--help]\n\n", summary_,
                                 "\n\nConfigured by environment variables:\n");
  size_t width = 0;
  for (const Var& v : vars_) width = std::max(width, v.name.size());
  for (const Var& v : vars_) {
    absl::StrAppend(&out, "  ", v.name, std::string(width - v.name.size() + 2, ' '), v.help);
    absl::StrAppend(
        &out, v.default_value.empty() ? "" : absl::StrCat(" (default \"", v.default_value, "\")"),
        "\n");
  }
  return out;
}

absl::StatusOr<bool> EnvConfig::HandleArgs(int argc, char** argv) const {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << Help();
      return true;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown argument \"", arg, "\"; configuration comes from the environment, see --help"));
  }
  return false;
}

}  // namespace nsmcert::sdk::daemon
