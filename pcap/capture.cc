#include "pcap/capture.h"

#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/synchronization/notification.h"
#include "pcap/str_util.h"

namespace nsmcert::pcap {
namespace {

// How often the capture thread wakes up even when nothing happens, so that a handle that failed
// without waking poll() is noticed.
constexpr int kPollIntervalMs = 200;

}  // namespace

Capture::Capture(CaptureOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Capture>> Capture::Start(const NetnsRef& netns,
                                                        CaptureOptions options) {
  if (options.interface.empty()) {
    return absl::InvalidArgumentError("capture: no interface given");
  }
  std::unique_ptr<Capture> capture(new Capture(std::move(options)));
  capture->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (capture->stop_fd_ < 0) {
    return absl::InternalError(internal::Cat("capture: eventfd: ", std::strerror(errno)));
  }
  absl::Notification opened;
  absl::Status open_status;
  Capture* self = capture.get();
  capture->thread_ = std::thread([self, &netns, &opened, &open_status] {
    absl::Status status = self->Open(netns);
    open_status = status;
    opened.Notify();  // Start's locals are gone after this
    if (status.ok()) self->Loop();
  });
  opened.WaitForNotification();
  if (!open_status.ok()) {
    capture->thread_.join();
    capture->stopped_ = true;
    close(capture->stop_fd_);
    capture->stop_fd_ = -1;
    return open_status;
  }
  return capture;
}

Capture::~Capture() { Stop().IgnoreError(); }

absl::Status Capture::Open(const NetnsRef& netns) {
  const std::string where =
      internal::Cat("capture on ", options_.interface, " in ", netns.ToString());
  if (absl::Status entered = EnterNetnsOnThisThread(netns); !entered.ok()) {
    return absl::Status(entered.code(), internal::Cat(where, ": ", entered.message()));
  }
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* handle = pcap_create(options_.interface.c_str(), error);
  if (handle == nullptr) return absl::InternalError(internal::Cat(where, ": ", error));
  auto fail = [&](absl::StatusCode code, const std::string& message) {
    absl::Status status(code, internal::Cat(where, ": ", message));
    pcap_close(handle);
    return status;
  };
  pcap_set_snaplen(handle, options_.snap_length);
  pcap_set_promisc(handle, options_.promiscuous ? 1 : 0);
  // Immediate mode hands each packet over as it arrives instead of when a buffer block fills, so
  // an expectation sees a packet within its timeout.
  pcap_set_immediate_mode(handle, 1);
  pcap_set_buffer_size(handle, options_.kernel_buffer_bytes);
  const int activated = pcap_activate(handle);
  if (activated < 0) {
    std::string message =
        activated == PCAP_ERROR ? pcap_geterr(handle) : pcap_statustostr(activated);
    switch (activated) {
      case PCAP_ERROR_NO_SUCH_DEVICE:
        return fail(absl::StatusCode::kNotFound,
                    internal::Cat("no interface ", options_.interface, " (", message, ")"));
      case PCAP_ERROR_PERM_DENIED:
        return fail(absl::StatusCode::kPermissionDenied, message);
      default:
        return fail(absl::StatusCode::kUnavailable, message);
    }
  }
  if (!options_.filter.empty()) {
    bpf_program program{};
    if (pcap_compile(handle, &program, options_.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      return fail(absl::StatusCode::kInvalidArgument,
                  internal::Cat("filter '", options_.filter, "': ", pcap_geterr(handle)));
    }
    const int set = pcap_setfilter(handle, &program);
    pcap_freecode(&program);
    if (set != 0) {
      return fail(absl::StatusCode::kInvalidArgument,
                  internal::Cat("filter '", options_.filter, "': ", pcap_geterr(handle)));
    }
  }
  if (pcap_setnonblock(handle, 1, error) != 0) {
    return fail(absl::StatusCode::kInternal, std::string(error));
  }
  link_type_ = pcap_datalink(handle);
  if (!options_.pcap_path.empty()) {
    auto writer = PcapFileWriter::Create(options_.pcap_path, link_type_, options_.snap_length);
    if (!writer.ok()) return fail(writer.status().code(), std::string(writer.status().message()));
    writer_ = *std::move(writer);
  }
  handle_ = handle;
  return absl::OkStatus();
}

void Capture::Loop() {
  const std::string where = internal::Cat("capture on ", options_.interface);
  pollfd fds[2] = {{pcap_get_selectable_fd(handle_), POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  absl::Status status;
  while (true) {
    fds[0].revents = fds[1].revents = 0;
    if (poll(fds, 2, kPollIntervalMs) < 0 && errno != EINTR) {
      status = absl::InternalError(internal::Cat(where, ": poll: ", std::strerror(errno)));
      break;
    }
    const bool stop = (fds[1].revents & POLLIN) != 0;
    // On stop, one more dispatch drains what the kernel already queued.
    const int dispatched =
        pcap_dispatch(handle_, -1, &Capture::Dispatch, reinterpret_cast<unsigned char*>(this));
    if (dispatched == PCAP_ERROR) {
      status = absl::UnavailableError(internal::Cat(where, ": ", pcap_geterr(handle_)));
      break;
    }
    if (dispatched == 0 && (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
      status = absl::UnavailableError(internal::Cat(where, ": the interface went away"));
      break;
    }
    if (writer_ != nullptr && dispatched > 0) {
      if (absl::Status flushed = writer_->Flush(); !flushed.ok()) {
        status = flushed;
        break;
      }
    }
    if (stop) break;
  }
  Finish(std::move(status));
}

void Capture::Dispatch(unsigned char* user, const ::pcap_pkthdr* header,
                       const unsigned char* data) {
  reinterpret_cast<Capture*>(user)->OnPacket(header, data);
}

void Capture::OnPacket(const ::pcap_pkthdr* header, const unsigned char* data) {
  CapturedPacket packet;
  packet.timestamp = absl::TimeFromTimeval(header->ts);
  packet.original_length = header->len;
  packet.link_type = link_type_;
  packet.data.assign(data, data + header->caplen);
  if (writer_ != nullptr) {
    // A write error surfaces at the next Flush, which ends the capture with it.
    writer_->Write(packet).IgnoreError();
  }
  absl::MutexLock lock(&mu_);
  ++stats_.captured;
  if (packets_.size() < options_.max_packets_in_memory) {
    packets_.push_back(std::move(packet));
  } else {
    ++stats_.not_kept_in_memory;
  }
}

void Capture::Finish(absl::Status status) {
  pcap_stat kernel{};
  const bool have_stats = pcap_stats(handle_, &kernel) == 0;
  absl::MutexLock lock(&mu_);
  if (have_stats) stats_.dropped_by_kernel = kernel.ps_drop;
  error_ = std::move(status);
  ended_ = true;
}

absl::Status Capture::Stop() {
  if (stopped_) return stop_status_;
  stopped_ = true;
  const uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof(one)) != sizeof(one)) {
    // The eventfd cannot be full after a single write; the thread also wakes on its poll interval.
  }
  thread_.join();
  pcap_close(handle_);
  handle_ = nullptr;
  close(stop_fd_);
  stop_fd_ = -1;
  absl::Status closed = writer_ != nullptr ? writer_->Close() : absl::OkStatus();
  absl::MutexLock lock(&mu_);
  stop_status_ = !error_.ok() ? error_ : closed;
  return stop_status_;
}

bool Capture::running() const {
  absl::MutexLock lock(&mu_);
  return !ended_;
}

std::optional<CapturedPacket> Capture::NextPacket(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return next_ < packets_.size() || ended_;
  };
  mu_.AwaitWithDeadline(absl::Condition(&available), deadline);
  if (next_ < packets_.size()) return packets_[next_++];
  return std::nullopt;
}

absl::Time Capture::Now() const { return absl::Now(); }

std::vector<CapturedPacket> Capture::Packets() const {
  absl::MutexLock lock(&mu_);
  return packets_;
}

CaptureStats Capture::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace nsmcert::pcap
