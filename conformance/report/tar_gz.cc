#include "conformance/report/tar_gz.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <fstream>
#include <system_error>

#include "conformance/cases/text.h"

namespace nsmcert::conformance {
namespace {

constexpr std::size_t kBlock = 512;
using Header = std::array<char, kBlock>;

// The largest size an 11-digit octal field holds (8 GiB - 1). Evidence files are far smaller; a
// bigger one is refused rather than written with the GNU base-256 extension.
constexpr unsigned long long kMaxOctalSize = 077777777777ULL;

// Owns a gzFile.
class GzFile {
 public:
  GzFile(const std::filesystem::path& path, const char* mode) : file_(gzopen(path.c_str(), mode)) {}
  ~GzFile() {
    if (file_ != nullptr) gzclose(file_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  gzFile get() const { return file_; }
  // Flushes and closes; false on error.
  bool Close() {
    const int result = gzclose(file_);
    file_ = nullptr;
    return result == Z_OK;
  }

 private:
  gzFile file_;
};

void PutOctal(Header& header, std::size_t offset, std::size_t width, unsigned long long value) {
  // width-1 octal digits, zero-padded, then NUL.
  std::string digits(width - 1, '0');
  for (std::size_t i = width - 1; i-- > 0 && value != 0;) {
    digits[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  std::memcpy(header.data() + offset, digits.data(), width - 1);
  header[offset + width - 1] = '\0';
}

void PutString(Header& header, std::size_t offset, std::size_t width, std::string_view text) {
  std::memcpy(header.data() + offset, text.data(), std::min(width, text.size()));
}

unsigned Checksum(const Header& header) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  }
  return sum;
}

Header MakeHeader(std::string_view name, std::string_view prefix, char type, unsigned mode,
                  unsigned long long size, long long mtime) {
  Header header{};
  PutString(header, 0, 100, name);
  PutOctal(header, 100, 8, mode);
  PutOctal(header, 108, 8, 0);  // uid
  PutOctal(header, 116, 8, 0);  // gid
  PutOctal(header, 124, 12, size);
  PutOctal(header, 136, 12, static_cast<unsigned long long>(std::max(0LL, mtime)));
  header[156] = type;
  PutString(header, 257, 6, std::string_view("ustar\0", 6));
  PutString(header, 263, 2, "00");
  PutString(header, 265, 32, "root");
  PutString(header, 297, 32, "root");
  PutString(header, 345, 155, prefix);
  // Checksum: six octal digits, NUL, space.
  const unsigned sum = Checksum(header);
  PutOctal(header, 148, 7, sum);
  header[155] = ' ';
  return header;
}

// Splits `path` into a ustar (prefix, name) pair, or returns false when it does not fit.
bool SplitUstarPath(const std::string& path, std::string& prefix, std::string& name) {
  if (path.size() <= 100) {
    prefix.clear();
    name = path;
    return true;
  }
  // The split point must be a '/' with at most 155 bytes before it and 100 after.
  for (std::size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    if (slash <= 155 && path.size() - slash - 1 <= 100 && path.size() - slash - 1 > 0) {
      prefix = path.substr(0, slash);
      name = path.substr(slash + 1);
      return true;
    }
  }
  return false;
}

// A pax record "<len> path=<value>\n", where <len> counts the whole record including itself.
std::string PaxRecord(std::string_view key, std::string_view value) {
  const std::size_t body = key.size() + value.size() + 3;  // ' ', '=', '\n'
  std::size_t length = body + 1;
  while (std::to_string(length).size() + body != length) ++length;
  return Cat(length, " ", key, "=", value, "\n");
}

class TarWriter {
 public:
  TarWriter(gzFile file, std::filesystem::path archive)
      : file_(file), archive_(std::move(archive)) {}

  absl::Status Write(const void* data, std::size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size, 1 << 20));
      if (gzwrite(file_, bytes, chunk) != static_cast<int>(chunk)) {
        int code = 0;
        const char* message = gzerror(file_, &code);
        return absl::InternalError(
            Cat(archive_.string(), ": cannot write: ", message ? message : "unknown error"));
      }
      bytes += chunk;
      size -= chunk;
    }
    return absl::OkStatus();
  }

  absl::Status Pad(unsigned long long size) {
    const std::size_t rest = size % kBlock;
    if (rest == 0) return absl::OkStatus();
    static const std::array<char, kBlock> zeros{};
    return Write(zeros.data(), kBlock - rest);
  }

  absl::Status Entry(const std::string& path, char type, unsigned mode, unsigned long long size,
                     long long mtime) {
    std::string prefix;
    std::string name;
    if (!SplitUstarPath(path, prefix, name)) {
      const std::string record = PaxRecord("path", path);
      const Header pax = MakeHeader(Cat("PaxHeaders/", path.substr(path.size() - 80)), "", 'x',
                                    0644, record.size(), mtime);
      if (absl::Status s = Write(pax.data(), kBlock); !s.ok()) return s;
      if (absl::Status s = Write(record.data(), record.size()); !s.ok()) return s;
      if (absl::Status s = Pad(record.size()); !s.ok()) return s;
      name = path.substr(path.size() - std::min<std::size_t>(path.size(), 100));
      prefix.clear();
    }
    const Header header = MakeHeader(name, prefix, type, mode, size, mtime);
    return Write(header.data(), kBlock);
  }

 private:
  gzFile file_;
  std::filesystem::path archive_;
};

long long ModificationTime(const std::filesystem::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return static_cast<long long>(info.st_mtime);
}

unsigned long long ParseOctal(const char* field, std::size_t width) {
  unsigned long long value = 0;
  for (std::size_t i = 0; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
    value = value * 8 + static_cast<unsigned>(field[i] - '0');
  }
  return value;
}

std::string FieldString(const char* field, std::size_t width) {
  return std::string(field, strnlen(field, width));
}

}  // namespace

absl::Status WriteTarGz(const std::filesystem::path& source_dir,
                        const std::filesystem::path& archive, std::string_view top,
                        const std::set<std::string>& exclude) {
  std::error_code error;
  const std::filesystem::path partial = archive.string() + ".partial";
  const std::filesystem::path absolute_archive = std::filesystem::absolute(archive, error);
  const std::filesystem::path absolute_partial = std::filesystem::absolute(partial, error);

  // Collect first, so the archive (created below) is never read into itself.
  std::vector<std::filesystem::path> paths;
  std::filesystem::recursive_directory_iterator it(source_dir, error);
  if (error) {
    return absl::InternalError(Cat(source_dir.string(), ": cannot list: ", error.message()));
  }
  for (const auto& entry : it) {
    const std::filesystem::path absolute = std::filesystem::absolute(entry.path(), error);
    if (absolute == absolute_archive || absolute == absolute_partial) continue;
    const std::string relative = entry.path().lexically_relative(source_dir).generic_string();
    if (exclude.count(relative) != 0) continue;
    paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());

  GzFile file(partial, "wb6");
  if (file.get() == nullptr) {
    return absl::InternalError(Cat(partial.string(), ": cannot create the bundle"));
  }
  TarWriter writer(file.get(), partial);
  const std::string root(top);
  if (!root.empty()) {
    if (absl::Status s = writer.Entry(root + "/", '5', 0755, 0, ModificationTime(source_dir));
        !s.ok()) {
      return s;
    }
  }
  for (const std::filesystem::path& path : paths) {
    const std::string relative = path.lexically_relative(source_dir).generic_string();
    const std::string name = root.empty() ? relative : Cat(root, "/", relative);
    const auto status = std::filesystem::symlink_status(path, error);
    if (error) continue;  // vanished while archiving
    if (std::filesystem::is_directory(status)) {
      if (absl::Status s = writer.Entry(name + "/", '5', 0755, 0, ModificationTime(path));
          !s.ok()) {
        return s;
      }
      continue;
    }
    if (!std::filesystem::is_regular_file(status)) continue;
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::InternalError(Cat(path.string(), ": cannot read for the bundle"));
    const std::string contents((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
    if (in.bad()) return absl::InternalError(Cat(path.string(), ": read error for the bundle"));
    if (contents.size() > kMaxOctalSize) {
      return absl::InternalError(Cat(path.string(), ": ", contents.size(),
                                     " bytes is too large for the bundle (8 GiB limit)"));
    }
    if (absl::Status s = writer.Entry(name, '0', 0644, contents.size(), ModificationTime(path));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = writer.Write(contents.data(), contents.size()); !s.ok()) return s;
    if (absl::Status s = writer.Pad(contents.size()); !s.ok()) return s;
  }
  static const std::array<char, 2 * kBlock> end{};
  if (absl::Status s = writer.Write(end.data(), end.size()); !s.ok()) return s;
  if (!file.Close()) {
    return absl::InternalError(Cat(partial.string(), ": cannot finish the bundle"));
  }
  std::filesystem::rename(partial, archive, error);
  if (error) {
    std::filesystem::remove(partial, error);
    return absl::InternalError(Cat(archive.string(), ": cannot move the bundle into place"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TarEntry>> ReadTarGz(const std::filesystem::path& archive) {
  GzFile file(archive, "rb");
  if (file.get() == nullptr) return absl::NotFoundError(Cat(archive.string(), ": cannot open"));
  std::vector<TarEntry> entries;
  std::string pending_path;  // from a pax header, for the next entry
  const auto read_exact = [&](char* data, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
      const int n = gzread(file.get(), data + done, static_cast<unsigned>(size - done));
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  };
  while (true) {
    Header header{};
    if (!read_exact(header.data(), kBlock)) {
      return absl::InvalidArgumentError(Cat(archive.string(), ": truncated (no end marker)"));
    }
    if (std::all_of(header.begin(), header.end(), [](char c) { return c == 0; })) break;
    const unsigned stored = static_cast<unsigned>(ParseOctal(header.data() + 148, 8));
    if (stored != Checksum(header)) {
      return absl::InvalidArgumentError(
          Cat(archive.string(), ": bad header checksum after ", entries.size(), " entries"));
    }
    const unsigned long long size = ParseOctal(header.data() + 124, 12);
    std::string contents(size, '\0');
    if (size > 0 && !read_exact(contents.data(), size)) {
      return absl::InvalidArgumentError(Cat(archive.string(), ": truncated entry"));
    }
    if (size % kBlock != 0) {
      std::array<char, kBlock> padding{};
      if (!read_exact(padding.data(), kBlock - size % kBlock)) {
        return absl::InvalidArgumentError(Cat(archive.string(), ": truncated padding"));
      }
    }
    const char type = header[156];
    if (type == 'x') {
      // Records "<len> key=value\n"; only "path" matters here.
      std::size_t at = 0;
      while (at < contents.size()) {
        const std::size_t space = contents.find(' ', at);
        if (space == std::string::npos) break;
        std::size_t length = 0;
        const auto parsed = std::from_chars(contents.data() + at, contents.data() + space, length);
        if (parsed.ec != std::errc() || length == 0 || at + length > contents.size()) {
          return absl::InvalidArgumentError(Cat(archive.string(), ": malformed pax header"));
        }
        const std::string record = contents.substr(space + 1, at + length - space - 2);
        if (record.starts_with("path=")) pending_path = record.substr(5);
        at += length;
      }
      continue;
    }
    TarEntry entry;
    const std::string prefix = FieldString(header.data() + 345, 155);
    const std::string name = FieldString(header.data(), 100);
    entry.path = !pending_path.empty() ? pending_path
                 : prefix.empty()      ? name
                                       : Cat(prefix, "/", name);
    pending_path.clear();
    entry.directory = type == '5';
    entry.mode = static_cast<unsigned>(ParseOctal(header.data() + 100, 8));
    entry.mtime = static_cast<long long>(ParseOctal(header.data() + 136, 12));
    if (!entry.directory) entry.contents = std::move(contents);
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace nsmcert::conformance
