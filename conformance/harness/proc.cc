#include "conformance/harness/proc.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "conformance/harness/str_util.h"

namespace nsmcert::harness {
namespace {

template <class Number>
bool ParseNumber(std::string_view text, Number& number) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

bool ParsePid(std::string_view text, pid_t& pid) { return ParseNumber(text, pid) && pid > 0; }

}  // namespace

absl::StatusOr<ProcStat> ReadProcStat(pid_t pid) {
  std::ifstream file(internal::Cat("/proc/", pid, "/stat"));
  std::string line;
  if (!file || !std::getline(file, line)) {
    return absl::NotFoundError(internal::Cat("no process ", pid));
  }
  // "pid (comm) state ppid pgrp ..." where comm may itself hold spaces and parentheses, so split
  // at the first '(' and the last ')'.
  const auto open = line.find('(');
  const auto close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return absl::InternalError(internal::Cat("unreadable /proc/", pid, "/stat: ", line));
  }
  ProcStat stat;
  stat.pid = pid;
  stat.comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 1));
  // Fields after comm, numbered as in proc(5): 3 state, 4 ppid, 5 pgrp, ... 22 starttime.
  std::string field;
  bool parsed = true;
  int number = 3;
  for (; number <= 22 && rest >> field; ++number) {
    switch (number) {
      case 3:
        stat.state = field[0];
        break;
      case 4:
        parsed = parsed && ParseNumber(field, stat.ppid);
        break;
      case 5:
        parsed = parsed && ParseNumber(field, stat.pgrp);
        break;
      case 22:
        parsed = parsed && ParseNumber(field, stat.start_time);
        break;
      default:
        break;
    }
  }
  if (!parsed || number != 23) {
    return absl::InternalError(internal::Cat("unreadable /proc/", pid, "/stat: ", line));
  }
  return stat;
}

std::vector<pid_t> ListPids() {
  std::vector<pid_t> pids;
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return pids;
  while (const dirent* entry = readdir(dir)) {
    pid_t pid = 0;
    if (ParsePid(entry->d_name, pid)) pids.push_back(pid);
  }
  closedir(dir);
  return pids;
}

std::vector<ProcStat> ListDescendants(pid_t ancestor) {
  std::multimap<pid_t, ProcStat> by_parent;
  for (pid_t pid : ListPids()) {
    auto stat = ReadProcStat(pid);
    if (stat.ok()) by_parent.emplace(stat->ppid, *stat);
  }
  std::vector<ProcStat> result;
  std::vector<pid_t> frontier = {ancestor};
  while (!frontier.empty()) {
    const pid_t parent = frontier.back();
    frontier.pop_back();
    auto [begin, end] = by_parent.equal_range(parent);
    for (auto it = begin; it != end; ++it) {
      result.push_back(it->second);
      frontier.push_back(it->second.pid);
    }
  }
  return result;
}

absl::StatusOr<std::uint64_t> NetNsInodeOfPid(pid_t pid) {
  struct stat info {};
  if (stat(internal::Cat("/proc/", pid, "/ns/net").c_str(), &info) != 0) {
    return absl::NotFoundError(internal::Cat("no network namespace for process ", pid));
  }
  return static_cast<std::uint64_t>(info.st_ino);
}

std::vector<pid_t> PidsInNetNs(std::uint64_t netns_inode) {
  std::vector<pid_t> result;
  for (pid_t pid : ListPids()) {
    auto inode = NetNsInodeOfPid(pid);
    if (inode.ok() && *inode == netns_inode) result.push_back(pid);
  }
  return result;
}

std::string ReadCmdline(pid_t pid) {
  std::ifstream file(internal::Cat("/proc/", pid, "/cmdline"), std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  while (!content.empty() && content.back() == '\0') content.pop_back();
  std::replace(content.begin(), content.end(), '\0', ' ');
  return content;
}

}  // namespace nsmcert::harness
