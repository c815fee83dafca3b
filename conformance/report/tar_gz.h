// The evidence bundle: a gzip-compressed POSIX tar (ustar, with pax headers for long paths)
// written with zlib, so a run needs no tar or gzip binary and the archive comes out the same
// everywhere (owner root, files 0644, directories 0755, entries in sorted order). ReadTarGz reads
// such archives back (tests, tools); it understands only what WriteTarGz writes (regular files,
// directories, pax "path" records).
#ifndef NSMCERT_CONFORMANCE_REPORT_TAR_GZ_H_
#define NSMCERT_CONFORMANCE_REPORT_TAR_GZ_H_

#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nsmcert::conformance {

// Archives every regular file and directory under `source_dir` as "<top>/<relative path>", leaving
// out the relative paths in `exclude` and the archive itself when it lies inside source_dir.
// Symbolic links and special files are skipped. The archive is written to "<archive>.partial"
// and renamed into place, so a failed write never leaves a truncated bundle behind. INTERNAL on an
// I/O error, naming the file.
absl::Status WriteTarGz(const std::filesystem::path& source_dir,
                        const std::filesystem::path& archive, std::string_view top,
                        const std::set<std::string>& exclude = {});

struct TarEntry {
  std::string path;  // as stored; directories end with '/'
  bool directory = false;
  std::string contents;  // regular files only
  unsigned mode = 0;
  long long mtime = 0;  // seconds since the epoch
};

// Reads a gzip-compressed tar. INVALID_ARGUMENT for a malformed archive (bad checksum, truncated
// entry), NOT_FOUND when the file cannot be opened.
absl::StatusOr<std::vector<TarEntry>> ReadTarGz(const std::filesystem::path& archive);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_REPORT_TAR_GZ_H_
