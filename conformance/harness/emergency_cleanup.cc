#include "conformance/harness/emergency_cleanup.h"

#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <utility>

#include "reference/kernel/netns.h"

namespace nsmcert::harness {
namespace {

enum class Kind : int { kProcessGroup, kNamedNetNs, kFile };

// A slot's state word holds a generation (upper bits) and a status (low 2 bits). A registration
// remembers the exact word it published, so a stale registration (whose slot the emergency cleanup
// already freed and someone else reused) can never free the new owner's entry.
constexpr std::uint32_t kFree = 0;
constexpr std::uint32_t kBusy = 1;  // being filled or being cleaned up
constexpr std::uint32_t kReady = 2;
constexpr std::uint32_t kStatusMask = 3;
constexpr std::uint32_t kGenerationStep = 4;

constexpr std::size_t kSlots = 512;
constexpr std::size_t kMaxPath = 160;

struct Slot {
  std::atomic<std::uint32_t> state{kFree};
  Kind kind = Kind::kFile;
  pid_t pgid = 0;
  char path[kMaxPath] = {};
};

std::array<Slot, kSlots> slots;

static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

// Returns the slot index and the published state word, or {-1, 0} when full or too long.
std::pair<int, std::uint32_t> Claim(Kind kind, pid_t pgid, std::string_view path) {
  if (path.size() >= kMaxPath) return {-1, 0};
  for (std::size_t i = 0; i < kSlots; ++i) {
    std::uint32_t current = slots[i].state.load(std::memory_order_relaxed);
    if ((current & kStatusMask) != kFree) continue;
    const std::uint32_t generation = (current & ~kStatusMask) + kGenerationStep;
    if (!slots[i].state.compare_exchange_strong(current, generation | kBusy,
                                                std::memory_order_acquire)) {
      continue;
    }
    slots[i].kind = kind;
    slots[i].pgid = pgid;
    std::memcpy(slots[i].path, path.data(), path.size());
    slots[i].path[path.size()] = '\0';
    slots[i].state.store(generation | kReady, std::memory_order_release);
    return {static_cast<int>(i), generation | kReady};
  }
  return {-1, 0};
}

// Runs `kind`'s cleanup for every ready slot and frees it.
void CleanupKind(Kind kind) {
  for (Slot& slot : slots) {
    std::uint32_t current = slot.state.load(std::memory_order_acquire);
    if ((current & kStatusMask) != kReady || slot.kind != kind) continue;
    const std::uint32_t generation = current & ~kStatusMask;
    // Take the slot so a normal teardown on another thread does not free it under us.
    if (!slot.state.compare_exchange_strong(current, generation | kBusy,
                                            std::memory_order_acquire)) {
      continue;
    }
    switch (kind) {
      case Kind::kProcessGroup:
        kill(-slot.pgid, SIGKILL);
        break;
      case Kind::kNamedNetNs:
        // What DeleteNamedNetNs does, reduced to async-signal-safe calls.
        umount2(slot.path, MNT_DETACH);
        unlink(slot.path);
        break;
      case Kind::kFile:
        unlink(slot.path);
        break;
    }
    slot.state.store(generation | kFree, std::memory_order_release);
  }
}

constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
struct sigaction previous_actions[kSignals.size()];

void OnSignal(int signal, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  RunEmergencyCleanup();
  for (std::size_t i = 0; i < kSignals.size(); ++i) {
    if (kSignals[i] != signal) continue;
    const struct sigaction& previous = previous_actions[i];
    if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
      previous.sa_sigaction(signal, info, context);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
      previous.sa_handler(signal);
    } else {
      // No one else wanted the signal: die of it, as without us.
      struct sigaction default_action {};
      default_action.sa_handler = SIG_DFL;
      sigemptyset(&default_action.sa_mask);
      sigaction(signal, &default_action, nullptr);
      sigset_t unblock;
      sigemptyset(&unblock);
      sigaddset(&unblock, signal);
      pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
      raise(signal);
    }
  }
  errno = saved_errno;
}

}  // namespace

EmergencyRegistration::EmergencyRegistration(EmergencyRegistration&& other) noexcept
    : slot_(other.slot_), published_(other.published_) {
  other.slot_ = -1;
}

EmergencyRegistration& EmergencyRegistration::operator=(EmergencyRegistration&& other) noexcept {
  if (this != &other) {
    Reset();
    slot_ = other.slot_;
    published_ = other.published_;
    other.slot_ = -1;
  }
  return *this;
}

EmergencyRegistration::~EmergencyRegistration() { Reset(); }

void EmergencyRegistration::Reset() {
  if (slot_ < 0) return;
  std::uint32_t expected = published_;
  // Fails only when the emergency cleanup took the slot; it frees it itself.
  slots[slot_].state.compare_exchange_strong(expected, (published_ & ~kStatusMask) | kFree,
                                             std::memory_order_release);
  slot_ = -1;
}

EmergencyRegistration EmergencyRegistration::ProcessGroup(pid_t pgid) {
  auto [slot, published] = Claim(Kind::kProcessGroup, pgid, "");
  return EmergencyRegistration(slot, published);
}

EmergencyRegistration EmergencyRegistration::NamedNetNs(std::string_view name) {
  char path[kMaxPath];
  const std::string_view dir = kernel::kNamedNetNsDir;
  if (dir.size() + 1 + name.size() >= kMaxPath) return EmergencyRegistration();
  std::memcpy(path, dir.data(), dir.size());
  path[dir.size()] = '/';
  std::memcpy(path + dir.size() + 1, name.data(), name.size());
  auto [slot, published] =
      Claim(Kind::kNamedNetNs, 0, std::string_view(path, dir.size() + 1 + name.size()));
  return EmergencyRegistration(slot, published);
}

EmergencyRegistration EmergencyRegistration::File(std::string_view path) {
  auto [slot, published] = Claim(Kind::kFile, 0, path);
  return EmergencyRegistration(slot, published);
}

void RunEmergencyCleanup() {
  CleanupKind(Kind::kProcessGroup);
  CleanupKind(Kind::kNamedNetNs);
  CleanupKind(Kind::kFile);
}

void InstallEmergencySignalHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (std::size_t i = 0; i < kSignals.size(); ++i) {
      struct sigaction current {};
      sigaction(kSignals[i], nullptr, &current);
      if (current.sa_handler == SIG_IGN) continue;  // e.g. nohup: keep ignoring
      previous_actions[i] = current;
      struct sigaction action {};
      action.sa_sigaction = OnSignal;
      action.sa_flags = SA_SIGINFO | SA_RESTART;
      sigemptyset(&action.sa_mask);
      // One cleanup at a time: a second signal waits until the first handler is done.
      for (int signal : kSignals) sigaddset(&action.sa_mask, signal);
      sigaction(kSignals[i], &action, nullptr);
    }
  });
}

}  // namespace nsmcert::harness
