#include "reference/kernel/netlink.h"

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <linux/veth.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/str_format.h"
#include "reference/kernel/str_util.h"

namespace nsmcert::kernel {

// ---- request building ----

// One netlink request: header, a fixed family header, then attributes (possibly nested).
class Netlink::Request {
 public:
  Request(std::uint16_t type, std::uint16_t flags) {
    buf_.resize(NLMSG_HDRLEN);
    nlmsghdr hdr{};
    hdr.nlmsg_type = type;
    hdr.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    std::memcpy(buf_.data(), &hdr, sizeof(hdr));
  }

  template <class T>
  void Header(const T& value) {
    Append(&value, sizeof(value));
  }

  void Attr(std::uint16_t type, const void* data, size_t len) {
    rtattr rta{};
    rta.rta_type = type;
    rta.rta_len = static_cast<std::uint16_t>(RTA_LENGTH(len));
    Append(&rta, sizeof(rta));
    Append(data, len);
  }
  void U8(std::uint16_t type, std::uint8_t v) { Attr(type, &v, sizeof(v)); }
  void U16(std::uint16_t type, std::uint16_t v) { Attr(type, &v, sizeof(v)); }
  void U32(std::uint16_t type, std::uint32_t v) { Attr(type, &v, sizeof(v)); }
  void Str(std::uint16_t type, std::string_view s) {
    std::string z(s);
    Attr(type, z.c_str(), z.size() + 1);
  }
  void Ip(std::uint16_t type, const IpAddress& ip) { Attr(type, ip.bytes.data(), ip.size()); }

  size_t BeginNest(std::uint16_t type) {
    size_t at = buf_.size();
    rtattr rta{};
    rta.rta_type = static_cast<std::uint16_t>(type | NLA_F_NESTED);
    Append(&rta, sizeof(rta));
    return at;
  }
  void EndNest(size_t at) {
    rtattr rta{};
    std::memcpy(&rta, buf_.data() + at, sizeof(rta));
    rta.rta_len = static_cast<std::uint16_t>(buf_.size() - at);
    std::memcpy(buf_.data() + at, &rta, sizeof(rta));
  }

  std::uint16_t flags() const { return hdr().nlmsg_flags; }
  void Finish(std::uint32_t seq) {
    nlmsghdr h = hdr();
    h.nlmsg_len = static_cast<std::uint32_t>(buf_.size());
    h.nlmsg_seq = seq;
    std::memcpy(buf_.data(), &h, sizeof(h));
  }
  const char* data() const { return buf_.data(); }
  size_t size() const { return buf_.size(); }

 private:
  nlmsghdr hdr() const {
    nlmsghdr h{};
    std::memcpy(&h, buf_.data(), sizeof(h));
    return h;
  }
  void Append(const void* data, size_t len) {
    size_t at = buf_.size();
    buf_.resize(at + NLMSG_ALIGN(len), 0);
    if (len > 0) std::memcpy(buf_.data() + at, data, len);
  }
  std::vector<char> buf_;
};

namespace {

// ---- reply parsing ----

// Attributes of one level, indexed by type (flags masked off).
class Attrs {
 public:
  Attrs(const void* data, size_t len) {
    const char* p = static_cast<const char*>(data);
    while (len >= sizeof(rtattr)) {
      rtattr rta{};
      std::memcpy(&rta, p, sizeof(rta));
      if (rta.rta_len < sizeof(rtattr) || rta.rta_len > len) break;
      std::uint16_t type = rta.rta_type & NLA_TYPE_MASK;
      if (type >= spans_.size()) spans_.resize(type + 1);
      spans_[type] = {p + RTA_LENGTH(0), rta.rta_len - RTA_LENGTH(0)};
      size_t step = RTA_ALIGN(rta.rta_len);
      if (step >= len) break;
      p += step;
      len -= step;
    }
  }
  bool Has(std::uint16_t type) const { return type < spans_.size() && spans_[type].first; }
  std::pair<const char*, size_t> Get(std::uint16_t type) const {
    return Has(type) ? spans_[type] : std::pair<const char*, size_t>{nullptr, 0};
  }
  std::string Str(std::uint16_t type) const {
    auto [p, n] = Get(type);
    if (p == nullptr) return "";
    return std::string(p, strnlen(p, n));
  }
  template <class T>
  T Int(std::uint16_t type, T fallback = 0) const {
    auto [p, n] = Get(type);
    if (p == nullptr || n < sizeof(T)) return fallback;
    T v{};
    std::memcpy(&v, p, sizeof(T));
    return v;
  }
  Attrs Nested(std::uint16_t type) const {
    auto [p, n] = Get(type);
    return Attrs(p, p == nullptr ? 0 : n);
  }
  // Attributes of a nested list (e.g. tc actions numbered 1..n), in order.
  std::vector<Attrs> NestedList(std::uint16_t type) const {
    std::vector<Attrs> out;
    Attrs inner = Nested(type);
    for (const auto& span : inner.spans_) {
      if (span.first != nullptr) out.emplace_back(span.first, span.second);
    }
    return out;
  }

 private:
  std::vector<std::pair<const char*, size_t>> spans_;
};

std::string FormatIp(int family, const char* data, size_t len) {
  if ((family == AF_INET && len < 4) || (family == AF_INET6 && len < 16) || data == nullptr) {
    return "";
  }
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, data, buf, sizeof(buf));
  return buf;
}

std::string FormatMac(const char* data, size_t len) {
  std::string out;
  for (size_t i = 0; i < len; ++i) {
    absl::StrAppendFormat(&out, "%s%02x", i == 0 ? "" : ":", static_cast<unsigned char>(data[i]));
  }
  return out;
}

absl::StatusOr<std::array<std::uint8_t, 6>> ParseMac(std::string_view text) {
  std::array<std::uint8_t, 6> mac{};
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  bool ok = parts.size() == 6;
  for (size_t i = 0; ok && i < 6; ++i) {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), v, 16);
    ok = parts[i].size() == 2 && ec == std::errc() && ptr == parts[i].data() + parts[i].size();
    mac[i] = static_cast<std::uint8_t>(v);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        internal::Cat("MAC address \"", text, "\" is not six hex bytes aa:bb:cc:dd:ee:ff"));
  }
  return mac;
}

absl::Status KernelError(int err, std::string_view what, std::string_view kernel_msg) {
  std::string msg = internal::Cat(what, ": ", std::strerror(err));
  if (!kernel_msg.empty()) internal::Append(msg, " (kernel: ", kernel_msg, ")");
  switch (err) {
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case ENODEV:
    case ENOENT:
    case ESRCH:
    case EADDRNOTAVAIL:
      return absl::NotFoundError(msg);
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(msg);
    case EINVAL:
    case ERANGE:
      return absl::InvalidArgumentError(msg);
    case EBUSY:
      return absl::FailedPreconditionError(msg);
    default:
      return absl::InternalError(msg);
  }
}

std::string Quote(std::string_view s) { return internal::Cat("\"", s, "\""); }

}  // namespace

// ---- validation helpers ----

absl::Status ValidateIfName(std::string_view name, std::string_view field) {
  if (name.empty()) return absl::InvalidArgumentError(internal::Cat(field, " is empty"));
  if (name.size() > kMaxIfNameLen) {
    return absl::InvalidArgumentError(internal::Cat(
        field, " \"", name, "\" is ", name.size(), " bytes; Linux allows at most ", kMaxIfNameLen));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(internal::Cat(field, " \"", name, "\" is reserved"));
  }
  for (char c : name) {
    if (c <= ' ' || c == '/' || c == ':' || c == 0x7f) {
      return absl::InvalidArgumentError(internal::Cat(
          field, " \"", name, "\" contains '/', ':', whitespace or a control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateVxlanSpec(const VxlanSpec& spec) {
  if (absl::Status s = ValidateIfName(spec.name, "vxlan name"); !s.ok()) return s;
  if (spec.vni == 0 || spec.vni > 0xFFFFFF) {
    return absl::InvalidArgumentError(
        internal::Cat("vxlan ", Quote(spec.name), ": VNI ", spec.vni, " is outside 1..16777215"));
  }
  absl::StatusOr<IpAddress> remote = IpAddress::Parse(spec.remote_ip, "vxlan remote_ip");
  if (!remote.ok()) return remote.status();
  if (!spec.local_ip.empty()) {
    absl::StatusOr<IpAddress> local = IpAddress::Parse(spec.local_ip, "vxlan local_ip");
    if (!local.ok()) return local.status();
    if (local->family != remote->family) {
      return absl::InvalidArgumentError(internal::Cat("vxlan ", Quote(spec.name), ": local_ip ",
                                                      spec.local_ip, " and remote_ip ",
                                                      spec.remote_ip, " differ in family"));
    }
  }
  if (spec.dst_port == 0) {
    return absl::InvalidArgumentError(internal::Cat("vxlan ", Quote(spec.name), ": dst_port is 0"));
  }
  if (!spec.underlay_device.empty()) {
    if (absl::Status s = ValidateIfName(spec.underlay_device, "vxlan underlay_device"); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PortRange> ParsePortRange(std::string_view text, std::string_view field) {
  PortRange range;
  if (text.empty()) return range;
  auto parse = [](std::string_view t, std::uint16_t& out) {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || v == 0 || v > 65535) {
      return false;
    }
    out = static_cast<std::uint16_t>(v);
    return true;
  };
  size_t dash = text.find('-');
  bool ok = dash == std::string_view::npos ? parse(text, range.start)
                                           : parse(text.substr(0, dash), range.start) &&
                                                 parse(text.substr(dash + 1), range.end);
  if (dash == std::string_view::npos) range.end = range.start;
  if (!ok || range.end < range.start) {
    return absl::InvalidArgumentError(internal::Cat(
        field, ": \"", text, "\" is not a port (1..65535) or a range start-end with start <= end"));
  }
  return range;
}

// ---- socket plumbing ----

Netlink::Netlink(int fd) : fd_(fd) {}

Netlink::~Netlink() {
  if (fd_ >= 0) close(fd_);
}

namespace {

absl::StatusOr<int> OpenRouteSocket() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return KernelError(errno, "open NETLINK_ROUTE socket", "");
  int one = 1;
  // Best effort: older kernels lack these, and errors then just carry less text.
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  int rcvbuf = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
    int err = errno;
    close(fd);
    return KernelError(err, "bind NETLINK_ROUTE socket", "");
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Netlink>> Netlink::Open(const NetNs& ns) {
  // The socket keeps the namespace of the thread that creates it. A thread that enters the
  // namespace is only needed when the caller is elsewhere; in the common case (the forwarder's
  // own namespace) that thread's start and exit would cost more than the whole netlink exchange.
  if (IsCallingThreadNetNs(ns)) return OpenCurrent();
  absl::StatusOr<int> fd = RunInNetNs(ns, [] { return OpenRouteSocket(); });
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<Netlink>(new Netlink(*fd));
}

absl::StatusOr<std::unique_ptr<Netlink>> Netlink::OpenCurrent() {
  absl::StatusOr<int> fd = OpenRouteSocket();
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<Netlink>(new Netlink(*fd));
}

absl::Status Netlink::SendLocked(Request& req) {
  req.Finish(++seq_);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t n = sendto(fd_, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&kernel),
                       sizeof(kernel));
    if (n >= 0) return absl::OkStatus();
    if (errno != EINTR) return KernelError(errno, "send netlink request", "");
  }
}

namespace {

// Reads one datagram, growing `buf` to fit it.
absl::StatusOr<size_t> ReceiveDatagram(int fd, std::vector<char>& buf) {
  for (;;) {
    ssize_t peek = recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_TRUNC);
    if (peek < 0) {
      if (errno == EINTR) continue;
      return KernelError(errno, "receive netlink reply", "");
    }
    if (static_cast<size_t>(peek) > buf.size()) buf.resize(static_cast<size_t>(peek));
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return KernelError(errno, "receive netlink reply", "");
    }
    return static_cast<size_t>(n);
  }
}

// Error status from an NLMSG_ERROR message, or OK for an ack (error 0).
absl::Status ErrorFromMessage(const nlmsghdr* h, std::string_view what) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) {
    return absl::InternalError(internal::Cat(what, ": truncated netlink error message"));
  }
  nlmsgerr err{};
  std::memcpy(&err, NLMSG_DATA(h), sizeof(err));
  if (err.error == 0) return absl::OkStatus();
  std::string kernel_msg;
  if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
    size_t offset = sizeof(nlmsgerr);
    if (!(h->nlmsg_flags & NLM_F_CAPPED)) offset += err.msg.nlmsg_len - NLMSG_HDRLEN;
    size_t total = h->nlmsg_len - NLMSG_HDRLEN;
    if (offset < total) {
      Attrs tlvs(static_cast<const char*>(NLMSG_DATA(h)) + offset, total - offset);
      kernel_msg = tlvs.Str(NLMSGERR_ATTR_MSG);
    }
  }
  return KernelError(-err.error, what, kernel_msg);
}

}  // namespace

absl::Status Netlink::Transact(Request& req, std::string_view what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = SendLocked(req); !s.ok()) return s;
  const std::uint32_t seq = seq_;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    absl::StatusOr<size_t> n = ReceiveDatagram(fd_, buf);
    if (!n.ok()) return n.status();
    size_t len = *n;
    for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;  // a stale reply to an earlier request
      if (h->nlmsg_type == NLMSG_ERROR) return ErrorFromMessage(h, what);
    }
  }
}

template <class OnMessage>
absl::Status Netlink::Dump(Request& req, std::string_view what, OnMessage&& on_message) {
  // A dump that races with changes is flagged NLM_F_DUMP_INTR and may miss or repeat objects.
  // Replies are held back until the dump completes, and an interrupted dump is run again.
  constexpr int kAttempts = 5;
  std::lock_guard<std::mutex> lock(mu_);
  const bool is_dump = (req.flags() & NLM_F_DUMP) == NLM_F_DUMP;
  std::vector<char> buf(64 * 1024);
  for (int attempt = 1;; ++attempt) {
    if (absl::Status s = SendLocked(req); !s.ok()) return s;
    const std::uint32_t seq = seq_;
    std::vector<std::vector<char>> replies;
    bool interrupted = false;
    bool done = false;
    while (!done) {
      absl::StatusOr<size_t> n = ReceiveDatagram(fd_, buf);
      if (!n.ok()) return n.status();
      size_t len = *n;
      for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != seq) continue;  // a stale reply to an earlier request
        if (h->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) return ErrorFromMessage(h, what);
        if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        const char* raw = reinterpret_cast<const char*>(h);
        replies.emplace_back(raw, raw + h->nlmsg_len);
        if (!is_dump) {  // a get answers with exactly one message
          done = true;
          break;
        }
      }
    }
    if (interrupted && attempt < kAttempts) continue;
    if (interrupted) {
      return absl::AbortedError(internal::Cat(what,
                                              ": the kernel's dump was interrupted by "
                                              "concurrent changes ",
                                              kAttempts, " times"));
    }
    for (const std::vector<char>& reply : replies) {
      on_message(reinterpret_cast<const nlmsghdr*>(reply.data()));
    }
    return absl::OkStatus();
  }
}

// ---- links ----

namespace {

ifinfomsg LinkHeader(int index = 0) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  return ifi;
}

LinkInfo ParseLink(const nlmsghdr* h) {
  LinkInfo link;
  ifinfomsg ifi{};
  std::memcpy(&ifi, NLMSG_DATA(h), sizeof(ifi));
  Attrs attrs(static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(ifi)),
              h->nlmsg_len - NLMSG_LENGTH(sizeof(ifi)));
  link.index = ifi.ifi_index;
  link.name = attrs.Str(IFLA_IFNAME);
  link.mtu = attrs.Int<std::uint32_t>(IFLA_MTU);
  link.up = (ifi.ifi_flags & IFF_UP) != 0;
  auto [mac, mac_len] = attrs.Get(IFLA_ADDRESS);
  if (mac != nullptr && mac_len > 0) link.mac = FormatMac(mac, mac_len);
  link.master_index = static_cast<int>(attrs.Int<std::uint32_t>(IFLA_MASTER));
  Attrs info = attrs.Nested(IFLA_LINKINFO);
  link.kind = info.Str(IFLA_INFO_KIND);
  if (link.kind == "vxlan") {
    Attrs vx = info.Nested(IFLA_INFO_DATA);
    link.vxlan_vni = vx.Int<std::uint32_t>(IFLA_VXLAN_ID);
    link.vxlan_port = ntohs(vx.Int<std::uint16_t>(IFLA_VXLAN_PORT));
    link.vxlan_underlay_index = static_cast<int>(vx.Int<std::uint32_t>(IFLA_VXLAN_LINK));
    auto ip = [&](std::uint16_t v4, std::uint16_t v6) {
      if (vx.Has(v4)) {
        auto [p, n] = vx.Get(v4);
        return FormatIp(AF_INET, p, n);
      }
      auto [p, n] = vx.Get(v6);
      return FormatIp(AF_INET6, p, n);
    };
    link.vxlan_remote = ip(IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6);
    link.vxlan_local = ip(IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6);
  }
  return link;
}

}  // namespace

absl::StatusOr<int> Netlink::LinkIndex(std::string_view name) {
  if (absl::Status s = ValidateIfName(name); !s.ok()) return s;
  Request req(RTM_GETLINK, 0);
  req.Header(LinkHeader());
  req.Str(IFLA_IFNAME, name);
  int index = 0;
  absl::Status s = Dump(req, internal::Cat("find link ", Quote(name)),
                        [&](const nlmsghdr* h) { index = ParseLink(h).index; });
  if (!s.ok()) return s;
  if (index == 0)
    return absl::NotFoundError(internal::Cat("find link ", Quote(name), ": no reply"));
  return index;
}

absl::StatusOr<LinkInfo> Netlink::GetLink(std::string_view name) {
  if (absl::Status s = ValidateIfName(name); !s.ok()) return s;
  Request req(RTM_GETLINK, 0);
  req.Header(LinkHeader());
  req.Str(IFLA_IFNAME, name);
  std::optional<LinkInfo> link;
  absl::Status s = Dump(req, internal::Cat("find link ", Quote(name)),
                        [&](const nlmsghdr* h) { link = ParseLink(h); });
  if (!s.ok()) return s;
  if (!link) return absl::NotFoundError(internal::Cat("find link ", Quote(name), ": no reply"));
  return *link;
}

absl::StatusOr<std::vector<LinkInfo>> Netlink::ListLinks() {
  Request req(RTM_GETLINK, NLM_F_DUMP);
  req.Header(LinkHeader());
  std::vector<LinkInfo> links;
  absl::Status s =
      Dump(req, "list links", [&](const nlmsghdr* h) { links.push_back(ParseLink(h)); });
  if (!s.ok()) return s;
  std::sort(links.begin(), links.end(),
            [](const LinkInfo& a, const LinkInfo& b) { return a.index < b.index; });
  return links;
}

absl::Status Netlink::CreateVeth(std::string_view name, std::string_view peer_name,
                                 const NetNs* peer_ns, std::uint32_t mtu) {
  if (absl::Status s = ValidateIfName(name, "veth name"); !s.ok()) return s;
  if (absl::Status s = ValidateIfName(peer_name, "veth peer name"); !s.ok()) return s;
  if (peer_ns != nullptr && !peer_ns->valid()) {
    return absl::InvalidArgumentError(internal::Cat("veth ", Quote(name), ": empty peer NetNs"));
  }
  Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  req.Header(LinkHeader());
  req.Str(IFLA_IFNAME, name);
  if (mtu != 0) req.U32(IFLA_MTU, mtu);
  size_t info = req.BeginNest(IFLA_LINKINFO);
  req.Str(IFLA_INFO_KIND, "veth");
  size_t data = req.BeginNest(IFLA_INFO_DATA);
  size_t peer = req.BeginNest(VETH_INFO_PEER);
  req.Header(LinkHeader());
  req.Str(IFLA_IFNAME, peer_name);
  if (mtu != 0) req.U32(IFLA_MTU, mtu);
  if (peer_ns != nullptr) req.U32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(peer_ns->fd()));
  req.EndNest(peer);
  req.EndNest(data);
  req.EndNest(info);
  std::string where = peer_ns != nullptr ? internal::Cat(" in ", peer_ns->InodeUrl()) : "";
  return Transact(req,
                  internal::Cat("create veth ", Quote(name), " <-> ", Quote(peer_name), where));
}

absl::Status Netlink::CreateBridge(std::string_view name) {
  if (absl::Status s = ValidateIfName(name, "bridge name"); !s.ok()) return s;
  Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  req.Header(LinkHeader());
  req.Str(IFLA_IFNAME, name);
  size_t info = req.BeginNest(IFLA_LINKINFO);
  req.Str(IFLA_INFO_KIND, "bridge");
  req.EndNest(info);
  return Transact(req, internal::Cat("create bridge ", Quote(name)));
}

absl::Status Netlink::CreateVxlan(const VxlanSpec& spec) {
  if (absl::Status s = ValidateVxlanSpec(spec); !s.ok()) return s;
  IpAddress remote = *IpAddress::Parse(spec.remote_ip);
  const bool v6 = remote.family == IpFamily::kV6;
  int underlay = 0;
  if (!spec.underlay_device.empty()) {
    absl::StatusOr<int> index = LinkIndex(spec.underlay_device);
    if (!index.ok()) {
      return absl::Status(index.status().code(),
                          internal::Cat("create vxlan ", Quote(spec.name),
                                        ": underlay device: ", index.status().message()));
    }
    underlay = *index;
  }
  Request req(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  req.Header(LinkHeader());
  req.Str(IFLA_IFNAME, spec.name);
  if (spec.mtu != 0) req.U32(IFLA_MTU, spec.mtu);
  size_t info = req.BeginNest(IFLA_LINKINFO);
  req.Str(IFLA_INFO_KIND, "vxlan");
  size_t data = req.BeginNest(IFLA_INFO_DATA);
  req.U32(IFLA_VXLAN_ID, spec.vni);
  req.Ip(v6 ? IFLA_VXLAN_GROUP6 : IFLA_VXLAN_GROUP, remote);
  if (!spec.local_ip.empty()) {
    req.Ip(v6 ? IFLA_VXLAN_LOCAL6 : IFLA_VXLAN_LOCAL, *IpAddress::Parse(spec.local_ip));
  }
  req.U16(IFLA_VXLAN_PORT, htons(spec.dst_port));
  if (underlay != 0) req.U32(IFLA_VXLAN_LINK, static_cast<std::uint32_t>(underlay));
  req.U8(IFLA_VXLAN_LEARNING, spec.learning ? 1 : 0);
  req.EndNest(data);
  req.EndNest(info);
  return Transact(req, internal::Cat("create vxlan ", Quote(spec.name), " vni ", spec.vni,
                                     " remote ", spec.remote_ip));
}

absl::Status Netlink::SetMaster(std::string_view link, std::string_view master) {
  absl::StatusOr<int> index = LinkIndex(link);
  if (!index.ok()) return index.status();
  int master_index = 0;
  if (!master.empty()) {
    absl::StatusOr<int> m = LinkIndex(master);
    if (!m.ok()) return m.status();
    master_index = *m;
  }
  Request req(RTM_NEWLINK, NLM_F_ACK);
  req.Header(LinkHeader(*index));
  req.U32(IFLA_MASTER, static_cast<std::uint32_t>(master_index));
  return Transact(req, master.empty()
                           ? internal::Cat("release link ", Quote(link), " from its master")
                           : internal::Cat("set master of ", Quote(link), " to ", Quote(master)));
}

absl::Status Netlink::MoveToNetNs(std::string_view link, const NetNs& ns,
                                  std::string_view new_name) {
  if (!ns.valid()) {
    return absl::InvalidArgumentError(internal::Cat("move link ", Quote(link), ": empty NetNs"));
  }
  if (!new_name.empty()) {
    if (absl::Status s = ValidateIfName(new_name, "new interface name"); !s.ok()) return s;
  }
  absl::StatusOr<int> index = LinkIndex(link);
  if (!index.ok()) return index.status();
  Request req(RTM_NEWLINK, NLM_F_ACK);
  req.Header(LinkHeader(*index));
  req.U32(IFLA_NET_NS_FD, static_cast<std::uint32_t>(ns.fd()));
  if (!new_name.empty()) req.Str(IFLA_IFNAME, new_name);
  return Transact(req,
                  internal::Cat("move link ", Quote(link), " to ", ns.InodeUrl(),
                                new_name.empty() ? "" : internal::Cat(" as ", Quote(new_name))));
}

absl::Status Netlink::Rename(std::string_view link, std::string_view new_name) {
  if (absl::Status s = ValidateIfName(new_name, "new interface name"); !s.ok()) return s;
  absl::StatusOr<int> index = LinkIndex(link);
  if (!index.ok()) return index.status();
  Request req(RTM_NEWLINK, NLM_F_ACK);
  req.Header(LinkHeader(*index));
  req.Str(IFLA_IFNAME, new_name);
  return Transact(req, internal::Cat("rename link ", Quote(link), " to ", Quote(new_name)));
}

Netlink::Request Netlink::ChangeLinkByName(std::string_view link) {
  // With index 0 the kernel finds the link by IFLA_IFNAME. Without NLM_F_CREATE a missing link is
  // ENODEV (NOT_FOUND), and the name is not taken as a rename: that needs an index.
  Request req(RTM_NEWLINK, NLM_F_ACK);
  req.Header(LinkHeader());
  req.Str(IFLA_IFNAME, link);
  return req;
}

absl::Status Netlink::SetUp(std::string_view link, bool up) {
  if (absl::Status s = ValidateIfName(link); !s.ok()) return s;
  Request req(RTM_NEWLINK, NLM_F_ACK);
  ifinfomsg ifi = LinkHeader();
  ifi.ifi_flags = up ? IFF_UP : 0;
  ifi.ifi_change = IFF_UP;
  req.Header(ifi);
  req.Str(IFLA_IFNAME, link);
  return Transact(req, internal::Cat("set link ", Quote(link), up ? " up" : " down"));
}

absl::Status Netlink::SetMtu(std::string_view link, std::uint32_t mtu) {
  if (absl::Status s = ValidateIfName(link); !s.ok()) return s;
  Request req = ChangeLinkByName(link);
  req.U32(IFLA_MTU, mtu);
  return Transact(req, internal::Cat("set MTU of ", Quote(link), " to ", mtu));
}

absl::Status Netlink::SetMac(std::string_view link, std::string_view mac) {
  absl::StatusOr<std::array<std::uint8_t, 6>> bytes = ParseMac(mac);
  if (!bytes.ok()) return bytes.status();
  if (absl::Status s = ValidateIfName(link); !s.ok()) return s;
  Request req = ChangeLinkByName(link);
  req.Attr(IFLA_ADDRESS, bytes->data(), bytes->size());
  return Transact(req, internal::Cat("set MAC of ", Quote(link), " to ", mac));
}

absl::Status Netlink::DeleteLink(std::string_view name) {
  if (absl::Status s = ValidateIfName(name); !s.ok()) return s;
  Request req(RTM_DELLINK, NLM_F_ACK);
  req.Header(LinkHeader());
  req.Str(IFLA_IFNAME, name);
  return Transact(req, internal::Cat("delete link ", Quote(name)));
}

// ---- addresses ----

namespace {

std::map<int, std::string> NamesByIndex(const std::vector<LinkInfo>& links) {
  std::map<int, std::string> names;
  for (const LinkInfo& link : links) names[link.index] = link.name;
  return names;
}

}  // namespace

absl::Status Netlink::AddAddress(std::string_view link, std::string_view cidr) {
  absl::StatusOr<IpPrefix> prefix = IpPrefix::Parse(cidr, "address");
  if (!prefix.ok()) return prefix.status();
  absl::StatusOr<int> index = LinkIndex(link);
  if (!index.ok()) return index.status();
  Request req(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<std::uint8_t>(prefix->address.af());
  ifa.ifa_prefixlen = static_cast<std::uint8_t>(prefix->length);
  ifa.ifa_index = static_cast<std::uint32_t>(*index);
  req.Header(ifa);
  req.Ip(IFA_LOCAL, prefix->address);
  req.Ip(IFA_ADDRESS, prefix->address);
  if (prefix->family() == IpFamily::kV6) {
    // NSM addresses are assigned by IPAM, not autoconfigured: skip duplicate address detection so
    // the address is usable at once instead of "tentative" for a second or more.
    req.U32(IFA_FLAGS, IFA_F_NODAD);
  }
  return Transact(req, internal::Cat("add address ", cidr, " to ", Quote(link)));
}

absl::Status Netlink::DeleteAddress(std::string_view link, std::string_view cidr) {
  absl::StatusOr<IpPrefix> prefix = IpPrefix::Parse(cidr, "address");
  if (!prefix.ok()) return prefix.status();
  absl::StatusOr<int> index = LinkIndex(link);
  if (!index.ok()) return index.status();
  Request req(RTM_DELADDR, NLM_F_ACK);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<std::uint8_t>(prefix->address.af());
  ifa.ifa_prefixlen = static_cast<std::uint8_t>(prefix->length);
  ifa.ifa_index = static_cast<std::uint32_t>(*index);
  req.Header(ifa);
  req.Ip(IFA_LOCAL, prefix->address);
  return Transact(req, internal::Cat("delete address ", cidr, " from ", Quote(link)));
}

absl::StatusOr<std::vector<AddressInfo>> Netlink::ListAddresses(std::string_view link) {
  absl::StatusOr<std::vector<LinkInfo>> links = ListLinks();
  if (!links.ok()) return links.status();
  std::map<int, std::string> names = NamesByIndex(*links);
  int only_index = 0;
  if (!link.empty()) {
    auto it = std::find_if(names.begin(), names.end(),
                           [&](const auto& entry) { return entry.second == link; });
    if (it == names.end()) {
      return absl::NotFoundError(
          internal::Cat("list addresses of ", Quote(link), ": no such link"));
    }
    only_index = it->first;
  }
  Request req(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_UNSPEC;
  req.Header(ifa);
  std::vector<AddressInfo> out;
  absl::Status s = Dump(req, "list addresses", [&](const nlmsghdr* h) {
    ifaddrmsg msg{};
    std::memcpy(&msg, NLMSG_DATA(h), sizeof(msg));
    if (msg.ifa_family != AF_INET && msg.ifa_family != AF_INET6) return;
    int index = static_cast<int>(msg.ifa_index);
    if (only_index != 0 && index != only_index) return;
    Attrs attrs(static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(msg)),
                h->nlmsg_len - NLMSG_LENGTH(sizeof(msg)));
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on point-to-point links.
    auto [p, n] = attrs.Has(IFA_LOCAL) ? attrs.Get(IFA_LOCAL) : attrs.Get(IFA_ADDRESS);
    std::string ip = FormatIp(msg.ifa_family, p, n);
    if (ip.empty()) return;
    out.push_back(AddressInfo{index, names.count(index) ? names[index] : "",
                              internal::Cat(ip, "/", msg.ifa_prefixlen)});
  });
  if (!s.ok()) return s;
  std::stable_sort(out.begin(), out.end(), [](const AddressInfo& a, const AddressInfo& b) {
    return a.link_index < b.link_index;
  });
  return out;
}

// ---- routes ----

namespace {

struct ParsedRoute {
  IpPrefix dst;
  std::optional<IpAddress> via;
  std::optional<IpAddress> src;
};

absl::StatusOr<ParsedRoute> ParseRouteSpec(const RouteSpec& route) {
  ParsedRoute parsed;
  absl::StatusOr<IpPrefix> dst = IpPrefix::Parse(route.prefix, "route prefix");
  if (!dst.ok()) return dst.status();
  parsed.dst = dst->Network();
  if (!route.via.empty()) {
    absl::StatusOr<IpAddress> via = IpAddress::Parse(route.via, "route via");
    if (!via.ok()) return via.status();
    if (via->family != parsed.dst.family()) {
      return absl::InvalidArgumentError(
          internal::Cat("route ", route.prefix, ": next hop ", route.via, " is of another family"));
    }
    parsed.via = *via;
  }
  if (!route.src.empty()) {
    absl::StatusOr<IpAddress> src = IpAddress::Parse(route.src, "route src");
    if (!src.ok()) return src.status();
    if (src->family != parsed.dst.family()) {
      return absl::InvalidArgumentError(
          internal::Cat("route ", route.prefix, ": src ", route.src, " is of another family"));
    }
    parsed.src = *src;
  }
  if (route.device.empty() && !parsed.via) {
    return absl::InvalidArgumentError(
        internal::Cat("route ", route.prefix, ": needs a device or a next hop (via)"));
  }
  if (!route.device.empty()) {
    if (absl::Status s = ValidateIfName(route.device, "route device"); !s.ok()) return s;
  }
  if (route.table == 0) {
    return absl::InvalidArgumentError(internal::Cat("route ", route.prefix, ": table is 0"));
  }
  return parsed;
}

std::string DescribeRoute(const RouteSpec& r) {
  std::string out = internal::Cat("route ", r.prefix);
  if (!r.via.empty()) internal::Append(out, " via ", r.via);
  if (!r.device.empty()) internal::Append(out, " dev ", Quote(r.device));
  if (r.table != kMainTable) internal::Append(out, " table ", r.table);
  return out;
}

}  // namespace

absl::Status Netlink::AddRoute(const RouteSpec& route) {
  absl::StatusOr<ParsedRoute> parsed = ParseRouteSpec(route);
  if (!parsed.ok()) return parsed.status();
  int oif = 0;
  if (!route.device.empty()) {
    absl::StatusOr<int> index = LinkIndex(route.device);
    if (!index.ok()) return index.status();
    oif = *index;
  }
  Request req(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<std::uint8_t>(parsed->dst.address.af());
  rtm.rtm_dst_len = static_cast<std::uint8_t>(parsed->dst.length);
  rtm.rtm_table =
      route.table < 256 ? static_cast<std::uint8_t>(route.table) : std::uint8_t{RT_TABLE_UNSPEC};
  rtm.rtm_protocol = RTPROT_STATIC;
  rtm.rtm_scope = parsed->via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm.rtm_type = RTN_UNICAST;
  if (route.onlink) rtm.rtm_flags |= RTNH_F_ONLINK;
  req.Header(rtm);
  req.U32(RTA_TABLE, route.table);
  if (parsed->dst.length > 0) req.Ip(RTA_DST, parsed->dst.address);
  if (parsed->via) req.Ip(RTA_GATEWAY, *parsed->via);
  if (parsed->src) req.Ip(RTA_PREFSRC, *parsed->src);
  if (oif != 0) req.U32(RTA_OIF, static_cast<std::uint32_t>(oif));
  if (route.metric != 0) req.U32(RTA_PRIORITY, route.metric);
  return Transact(req, internal::Cat("add ", DescribeRoute(route)));
}

absl::Status Netlink::DeleteRoute(const RouteSpec& route) {
  absl::StatusOr<ParsedRoute> parsed = ParseRouteSpec(route);
  if (!parsed.ok()) return parsed.status();
  int oif = 0;
  if (!route.device.empty()) {
    absl::StatusOr<int> index = LinkIndex(route.device);
    if (!index.ok()) return index.status();
    oif = *index;
  }
  Request req(RTM_DELROUTE, NLM_F_ACK);
  rtmsg rtm{};
  rtm.rtm_family = static_cast<std::uint8_t>(parsed->dst.address.af());
  rtm.rtm_dst_len = static_cast<std::uint8_t>(parsed->dst.length);
  rtm.rtm_table =
      route.table < 256 ? static_cast<std::uint8_t>(route.table) : std::uint8_t{RT_TABLE_UNSPEC};
  rtm.rtm_scope = RT_SCOPE_NOWHERE;  // match any scope
  rtm.rtm_type = RTN_UNICAST;
  req.Header(rtm);
  req.U32(RTA_TABLE, route.table);
  if (parsed->dst.length > 0) req.Ip(RTA_DST, parsed->dst.address);
  if (parsed->via) req.Ip(RTA_GATEWAY, *parsed->via);
  if (oif != 0) req.U32(RTA_OIF, static_cast<std::uint32_t>(oif));
  if (route.metric != 0) req.U32(RTA_PRIORITY, route.metric);
  return Transact(req, internal::Cat("delete ", DescribeRoute(route)));
}

absl::StatusOr<std::vector<RouteInfo>> Netlink::ListRoutes(std::uint32_t table) {
  absl::StatusOr<std::vector<LinkInfo>> links = ListLinks();
  if (!links.ok()) return links.status();
  std::map<int, std::string> names = NamesByIndex(*links);
  std::vector<RouteInfo> out;
  for (int family : {AF_INET, AF_INET6}) {
    Request req(RTM_GETROUTE, NLM_F_DUMP);
    rtmsg rtm{};
    rtm.rtm_family = static_cast<std::uint8_t>(family);
    req.Header(rtm);
    absl::Status s = Dump(req, "list routes", [&](const nlmsghdr* h) {
      rtmsg msg{};
      std::memcpy(&msg, NLMSG_DATA(h), sizeof(msg));
      if (msg.rtm_family != family || (msg.rtm_flags & RTM_F_CLONED)) return;
      Attrs attrs(static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(msg)),
                  h->nlmsg_len - NLMSG_LENGTH(sizeof(msg)));
      RouteInfo r;
      r.table = attrs.Int<std::uint32_t>(RTA_TABLE, msg.rtm_table);
      if (table != 0 && r.table != table) return;
      auto [dst, dst_len] = attrs.Get(RTA_DST);
      std::string dst_ip = FormatIp(family, dst, dst_len);
      if (dst_ip.empty()) dst_ip = family == AF_INET ? "0.0.0.0" : "::";
      r.prefix = internal::Cat(dst_ip, "/", msg.rtm_dst_len);
      auto [gw, gw_len] = attrs.Get(RTA_GATEWAY);
      r.via = FormatIp(family, gw, gw_len);
      int oif = static_cast<int>(attrs.Int<std::uint32_t>(RTA_OIF));
      if (oif != 0 && names.count(oif)) r.device = names[oif];
      auto [src, src_len] = attrs.Get(RTA_PREFSRC);
      r.src = FormatIp(family, src, src_len);
      r.scope = static_cast<RouteScope>(msg.rtm_scope);
      r.protocol = msg.rtm_protocol;
      r.type = msg.rtm_type;
      r.metric = attrs.Int<std::uint32_t>(RTA_PRIORITY);
      r.onlink = (msg.rtm_flags & RTNH_F_ONLINK) != 0;
      out.push_back(std::move(r));
    });
    if (!s.ok()) return s;
  }
  return out;
}

// ---- policy rules ----

namespace {

struct ParsedRule {
  int family = AF_INET;
  std::optional<IpPrefix> from;
};

absl::StatusOr<ParsedRule> ParseRuleSpec(const RuleSpec& rule) {
  ParsedRule parsed;
  parsed.family = rule.ipv6 ? AF_INET6 : AF_INET;
  if (!rule.from.empty()) {
    absl::StatusOr<IpPrefix> from = IpPrefix::Parse(rule.from, "rule from", /*allow_bare=*/true);
    if (!from.ok()) return from.status();
    parsed.from = from->Network();
    parsed.family = from->address.af();
  }
  if (rule.table == 0) return absl::InvalidArgumentError("rule: table is 0");
  return parsed;
}

std::string DescribeRule(const RuleSpec& r) {
  std::string out = "rule";
  if (r.priority != 0) internal::Append(out, " priority ", r.priority);
  internal::Append(out, " from ", r.from.empty() ? "all" : r.from);
  if (r.ipproto != 0) internal::Append(out, " ipproto ", r.ipproto);
  if (!r.sport.empty()) internal::Append(out, " sport ", r.sport.start, "-", r.sport.end);
  if (!r.dport.empty()) internal::Append(out, " dport ", r.dport.start, "-", r.dport.end);
  internal::Append(out, " table ", r.table);
  return out;
}

void EncodeRuleBody(auto& req, const RuleSpec& rule, const ParsedRule& parsed) {
  fib_rule_hdr frh{};
  frh.family = static_cast<std::uint8_t>(parsed.family);
  frh.action = FR_ACT_TO_TBL;
  frh.table =
      rule.table < 256 ? static_cast<std::uint8_t>(rule.table) : std::uint8_t{RT_TABLE_UNSPEC};
  if (parsed.from) frh.src_len = static_cast<std::uint8_t>(parsed.from->length);
  req.Header(frh);
  req.U32(FRA_TABLE, rule.table);
  if (parsed.from && parsed.from->length > 0) req.Ip(FRA_SRC, parsed.from->address);
  if (rule.priority != 0) req.U32(FRA_PRIORITY, rule.priority);
  if (rule.ipproto != 0) req.U8(FRA_IP_PROTO, rule.ipproto);
  if (!rule.sport.empty()) {
    fib_rule_port_range range{rule.sport.start, rule.sport.end};
    req.Attr(FRA_SPORT_RANGE, &range, sizeof(range));
  }
  if (!rule.dport.empty()) {
    fib_rule_port_range range{rule.dport.start, rule.dport.end};
    req.Attr(FRA_DPORT_RANGE, &range, sizeof(range));
  }
}

}  // namespace

absl::Status Netlink::AddRule(const RuleSpec& rule) {
  absl::StatusOr<ParsedRule> parsed = ParseRuleSpec(rule);
  if (!parsed.ok()) return parsed.status();
  Request req(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  EncodeRuleBody(req, rule, *parsed);
  return Transact(req, internal::Cat("add ", DescribeRule(rule)));
}

absl::Status Netlink::DeleteRule(const RuleSpec& rule) {
  absl::StatusOr<ParsedRule> parsed = ParseRuleSpec(rule);
  if (!parsed.ok()) return parsed.status();
  Request req(RTM_DELRULE, NLM_F_ACK);
  EncodeRuleBody(req, rule, *parsed);
  return Transact(req, internal::Cat("delete ", DescribeRule(rule)));
}

absl::StatusOr<std::vector<RuleSpec>> Netlink::ListRules() {
  std::vector<RuleSpec> out;
  for (int family : {AF_INET, AF_INET6}) {
    Request req(RTM_GETRULE, NLM_F_DUMP);
    fib_rule_hdr frh{};
    frh.family = static_cast<std::uint8_t>(family);
    req.Header(frh);
    absl::Status s = Dump(req, "list rules", [&](const nlmsghdr* h) {
      fib_rule_hdr msg{};
      std::memcpy(&msg, NLMSG_DATA(h), sizeof(msg));
      if (msg.family != family) return;
      Attrs attrs(static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(msg)),
                  h->nlmsg_len - NLMSG_LENGTH(sizeof(msg)));
      RuleSpec r;
      r.ipv6 = family == AF_INET6;
      r.table = attrs.Int<std::uint32_t>(FRA_TABLE, msg.table);
      r.priority = attrs.Int<std::uint32_t>(FRA_PRIORITY);
      r.ipproto = attrs.Int<std::uint8_t>(FRA_IP_PROTO);
      if (attrs.Has(FRA_SRC)) {
        auto [p, n] = attrs.Get(FRA_SRC);
        r.from = internal::Cat(FormatIp(family, p, n), "/", msg.src_len);
      }
      auto range = [&](std::uint16_t type) {
        fib_rule_port_range pr = attrs.Int<fib_rule_port_range>(type, fib_rule_port_range{0, 0});
        return PortRange{pr.start, pr.end};
      };
      r.sport = range(FRA_SPORT_RANGE);
      r.dport = range(FRA_DPORT_RANGE);
      out.push_back(std::move(r));
    });
    if (!s.ok()) return s;
  }
  return out;
}

// ---- neighbours ----

absl::Status Netlink::AddNeighbor(std::string_view link, std::string_view ip,
                                  std::string_view mac) {
  absl::StatusOr<IpAddress> addr = IpAddress::Parse(ip, "neighbour ip");
  if (!addr.ok()) return addr.status();
  absl::StatusOr<std::array<std::uint8_t, 6>> lladdr = ParseMac(mac);
  if (!lladdr.ok()) return lladdr.status();
  absl::StatusOr<int> index = LinkIndex(link);
  if (!index.ok()) return index.status();
  Request req(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK);
  ndmsg nd{};
  nd.ndm_family = static_cast<std::uint8_t>(addr->af());
  nd.ndm_ifindex = *index;
  nd.ndm_state = NUD_PERMANENT;
  req.Header(nd);
  req.Ip(NDA_DST, *addr);
  req.Attr(NDA_LLADDR, lladdr->data(), lladdr->size());
  return Transact(req, internal::Cat("add neighbour ", ip, " lladdr ", mac, " on ", Quote(link)));
}

absl::Status Netlink::DeleteNeighbor(std::string_view link, std::string_view ip) {
  absl::StatusOr<IpAddress> addr = IpAddress::Parse(ip, "neighbour ip");
  if (!addr.ok()) return addr.status();
  absl::StatusOr<int> index = LinkIndex(link);
  if (!index.ok()) return index.status();
  Request req(RTM_DELNEIGH, NLM_F_ACK);
  ndmsg nd{};
  nd.ndm_family = static_cast<std::uint8_t>(addr->af());
  nd.ndm_ifindex = *index;
  req.Header(nd);
  req.Ip(NDA_DST, *addr);
  return Transact(req, internal::Cat("delete neighbour ", ip, " on ", Quote(link)));
}

absl::StatusOr<std::vector<NeighborInfo>> Netlink::ListNeighbors(std::string_view link,
                                                                 bool permanent_only) {
  absl::StatusOr<std::vector<LinkInfo>> links = ListLinks();
  if (!links.ok()) return links.status();
  std::map<int, std::string> names = NamesByIndex(*links);
  std::vector<NeighborInfo> out;
  for (int family : {AF_INET, AF_INET6}) {
    Request req(RTM_GETNEIGH, NLM_F_DUMP);
    ndmsg nd{};
    nd.ndm_family = static_cast<std::uint8_t>(family);
    req.Header(nd);
    absl::Status s = Dump(req, "list neighbours", [&](const nlmsghdr* h) {
      ndmsg msg{};
      std::memcpy(&msg, NLMSG_DATA(h), sizeof(msg));
      if (msg.ndm_family != family) return;
      bool permanent = (msg.ndm_state & NUD_PERMANENT) != 0;
      if (permanent_only && !permanent) return;
      std::string name = names.count(msg.ndm_ifindex) ? names[msg.ndm_ifindex] : "";
      if (!link.empty() && name != link) return;
      Attrs attrs(static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(msg)),
                  h->nlmsg_len - NLMSG_LENGTH(sizeof(msg)));
      auto [ll, ll_len] = attrs.Get(NDA_LLADDR);
      if (ll == nullptr) return;
      auto [dst, dst_len] = attrs.Get(NDA_DST);
      out.push_back(
          NeighborInfo{name, FormatIp(family, dst, dst_len), FormatMac(ll, ll_len), permanent});
    });
    if (!s.ok()) return s;
  }
  return out;
}

// ---- tc cross-connect ----

namespace {

constexpr std::uint32_t kClsactHandle = TC_H_MAKE(TC_H_CLSACT, 0);
constexpr std::uint32_t kIngressParent = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
constexpr std::uint16_t kRedirectPriority = 1;

tcmsg TcHeader(int ifindex, std::uint32_t parent, std::uint32_t handle) {
  tcmsg tcm{};
  tcm.tcm_family = AF_UNSPEC;
  tcm.tcm_ifindex = ifindex;
  tcm.tcm_parent = parent;
  tcm.tcm_handle = handle;
  return tcm;
}

}  // namespace

absl::Status Netlink::RedirectIngress(std::string_view from_link, std::string_view to_link) {
  absl::StatusOr<int> from = LinkIndex(from_link);
  if (!from.ok()) return from.status();
  absl::StatusOr<int> to = LinkIndex(to_link);
  if (!to.ok()) return to.status();

  absl::StatusOr<std::optional<int>> existing = IngressRedirectTargetOf(*from, from_link);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return absl::AlreadyExistsError(internal::Cat("redirect ingress of ", Quote(from_link),
                                                  ": already redirected to ifindex ", **existing));
  }

  Request qdisc(RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  qdisc.Header(TcHeader(*from, TC_H_CLSACT, kClsactHandle));
  qdisc.Str(TCA_KIND, "clsact");
  absl::Status s = Transact(qdisc, internal::Cat("add clsact qdisc to ", Quote(from_link)));
  if (!s.ok() && !absl::IsAlreadyExists(s)) return s;
  const bool created_qdisc = s.ok();

  // A u32 filter whose single key matches anything (mask 0 at offset 0), not matchall: u32 is in
  // every kernel that has tc, matchall and flower are optional and absent from some builds.
  Request filter(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  tcmsg tcm = TcHeader(*from, kIngressParent, 0);
  tcm.tcm_info = TC_H_MAKE(static_cast<std::uint32_t>(kRedirectPriority) << 16, htons(ETH_P_ALL));
  filter.Header(tcm);
  filter.Str(TCA_KIND, "u32");
  size_t options = filter.BeginNest(TCA_OPTIONS);
  // tc_u32_sel ends in a flexible array of keys: lay out the selector and its one key by hand.
  char selector[sizeof(tc_u32_sel) + sizeof(tc_u32_key)] = {};
  tc_u32_sel sel{};
  sel.flags = TC_U32_TERMINAL;
  sel.nkeys = 1;
  std::memcpy(selector, &sel, sizeof(sel));  // the key stays all zero: mask 0 matches anything
  filter.Attr(TCA_U32_SEL, selector, sizeof(selector));
  size_t actions = filter.BeginNest(TCA_U32_ACT);
  size_t first = filter.BeginNest(1);  // actions are a list numbered from 1
  filter.Str(TCA_ACT_KIND, "mirred");
  size_t act_options = filter.BeginNest(TCA_ACT_OPTIONS);
  tc_mirred mirred{};
  mirred.action = TC_ACT_STOLEN;
  mirred.eaction = TCA_EGRESS_REDIR;
  mirred.ifindex = static_cast<std::uint32_t>(*to);
  filter.Attr(TCA_MIRRED_PARMS, &mirred, sizeof(mirred));
  filter.EndNest(act_options);
  filter.EndNest(first);
  filter.EndNest(actions);
  filter.EndNest(options);
  absl::Status added = Transact(
      filter, internal::Cat("redirect ingress of ", Quote(from_link), " to ", Quote(to_link)));
  if (!added.ok() && created_qdisc) {
    Request undo(RTM_DELQDISC, NLM_F_ACK);
    undo.Header(TcHeader(*from, TC_H_CLSACT, kClsactHandle));
    (void)Transact(undo, "undo clsact qdisc");
  }
  return added;
}

absl::Status Netlink::RemoveRedirect(std::string_view from_link) {
  absl::StatusOr<int> from = LinkIndex(from_link);
  if (!from.ok()) return from.status();
  Request req(RTM_DELQDISC, NLM_F_ACK);
  req.Header(TcHeader(*from, TC_H_CLSACT, kClsactHandle));
  absl::Status s = Transact(req, internal::Cat("remove clsact qdisc of ", Quote(from_link)));
  // The kernel answers EINVAL when the device has no clsact qdisc.
  if (absl::IsInvalidArgument(s)) {
    return absl::NotFoundError(internal::Cat("remove redirect of ", Quote(from_link),
                                             ": no clsact qdisc (", s.message(), ")"));
  }
  return s;
}

absl::StatusOr<std::optional<int>> Netlink::IngressRedirectTarget(std::string_view from_link) {
  absl::StatusOr<int> from = LinkIndex(from_link);
  if (!from.ok()) return from.status();
  return IngressRedirectTargetOf(*from, from_link);
}

absl::StatusOr<std::optional<int>> Netlink::IngressRedirectTargetOf(int from_index,
                                                                    std::string_view from_link) {
  Request req(RTM_GETTFILTER, NLM_F_DUMP);
  req.Header(TcHeader(from_index, kIngressParent, 0));
  std::optional<int> target;
  absl::Status s = Dump(
      req, internal::Cat("list ingress filters of ", Quote(from_link)), [&](const nlmsghdr* h) {
        tcmsg msg{};
        std::memcpy(&msg, NLMSG_DATA(h), sizeof(msg));
        Attrs attrs(static_cast<const char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(msg)),
                    h->nlmsg_len - NLMSG_LENGTH(sizeof(msg)));
        if (attrs.Str(TCA_KIND) != "u32") return;
        for (const Attrs& action : attrs.Nested(TCA_OPTIONS).NestedList(TCA_U32_ACT)) {
          if (action.Str(TCA_ACT_KIND) != "mirred") continue;
          Attrs opts = action.Nested(TCA_ACT_OPTIONS);
          auto [p, n] = opts.Get(TCA_MIRRED_PARMS);
          if (p == nullptr || n < sizeof(tc_mirred)) continue;
          tc_mirred mirred{};
          std::memcpy(&mirred, p, sizeof(mirred));
          if (mirred.eaction == TCA_EGRESS_REDIR) target = static_cast<int>(mirred.ifindex);
        }
      });
  // Without a clsact qdisc there is no ingress hook to list.
  if (absl::IsInvalidArgument(s) || absl::IsNotFound(s)) return std::optional<int>();
  if (!s.ok()) return s;
  return target;
}

}  // namespace nsmcert::kernel
