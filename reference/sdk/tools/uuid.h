// Random (version 4) UUIDs in RFC 4122 text form, as upstream uses for connection and path segment
// ids (`0b5c9a9e-3f1d-4c6a-9d8e-2a7b1c4d5e6f`).
#pragma once

#include <string>
#include <string_view>

namespace nsmcert::sdk::tools {

// A fresh random UUID: 36 lowercase characters, version nibble 4, variant bits 10. Thread-safe;
// randomness comes from a per-thread generator seeded by the operating system.
std::string NewUuidV4();

// True if `text` is a UUID in canonical lowercase or uppercase 8-4-4-4-12 hex form (any version).
bool IsUuidText(std::string_view text);

}  // namespace nsmcert::sdk::tools
