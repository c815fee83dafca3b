#include "pcap/packet_verifier.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "pcap/str_util.h"

namespace nsmcert::pcap {

PacketVerifier::PacketVerifier(PacketSource* source, VerifierOptions options)
    : source_(source), options_(std::move(options)) {}

bool PacketVerifier::Pull(absl::Time deadline) {
  std::optional<CapturedPacket> packet = source_->NextPacket(deadline);
  if (!packet.has_value()) return false;
  if (first_timestamp_ == absl::InfinitePast()) first_timestamp_ = packet->timestamp;
  SeenPacket seen;
  seen.index = ++seen_;
  seen.decoded = Decode(packet->data, packet->link_type, options_.decode);
  seen.packet = *std::move(packet);
  unclaimed_.push_back(std::move(seen));
  return true;
}

void PacketVerifier::Flush() {
  const absl::Time now = source_->Now();
  while (Pull(now)) {
  }
  unclaimed_.clear();
  first_timestamp_ = absl::InfinitePast();  // times in messages count from the stimulus on
}

absl::Status PacketVerifier::ExpectPacket(const PacketTemplate& expected, absl::Duration timeout) {
  return ExpectPackets(expected, 1, timeout);
}

absl::Status PacketVerifier::ExpectPackets(const PacketTemplate& expected, int count,
                                           absl::Duration timeout) {
  if (!expected.status().ok()) return expected.status();
  const absl::Time deadline = source_->Now() + timeout;
  int found = 0;
  // Unclaimed packets first: what already arrived counts.
  for (auto it = unclaimed_.begin(); it != unclaimed_.end() && found < count;) {
    if (expected.Matches(it->decoded)) {
      it = unclaimed_.erase(it);
      ++found;
    } else {
      ++it;
    }
  }
  while (found < count && Pull(deadline)) {
    if (expected.Matches(unclaimed_.back().decoded)) {
      unclaimed_.pop_back();
      ++found;
    }
  }
  if (found == count) return absl::OkStatus();
  std::string wanted =
      count == 1 ? "no packet" : internal::Cat("only ", found, " of ", count, " packets");
  return absl::DeadlineExceededError(
      internal::Cat("ExpectPacket: ", wanted, " matching ", expected.ToString(), " within ",
                    absl::FormatDuration(timeout), "; ", ClosestReport(expected)));
}

absl::Status PacketVerifier::ExpectNoPacket(const PacketTemplate& unwanted) {
  return ExpectNoPacket(unwanted, options_.negative_timeout);
}

absl::Status PacketVerifier::ExpectNoPacket(const PacketTemplate& unwanted,
                                            absl::Duration timeout) {
  if (!unwanted.status().ok()) return unwanted.status();
  const absl::Time deadline = source_->Now() + timeout;
  auto offender = [&](const SeenPacket& packet) {
    return absl::FailedPreconditionError(internal::Cat(
        "ExpectNoPacket: a packet matches ", unwanted.ToString(), ": ", Describe(packet)));
  };
  for (const SeenPacket& packet : unclaimed_) {
    if (unwanted.Matches(packet.decoded)) return offender(packet);
  }
  while (Pull(deadline)) {
    if (unwanted.Matches(unclaimed_.back().decoded)) return offender(unclaimed_.back());
  }
  return absl::OkStatus();
}

absl::Status PacketVerifier::ExpectNoOtherPackets() {
  return ExpectNoOtherPackets(options_.negative_timeout);
}

absl::Status PacketVerifier::ExpectNoOtherPackets(absl::Duration timeout) {
  const absl::Time deadline = source_->Now() + timeout;
  auto other = [&](const SeenPacket& packet) { return !Ignored(packet.decoded); };
  bool found = std::any_of(unclaimed_.begin(), unclaimed_.end(), other);
  while (!found && Pull(deadline)) found = other(unclaimed_.back());
  if (!found) return absl::OkStatus();

  std::vector<std::string> listed;
  size_t others = 0;
  for (const SeenPacket& packet : unclaimed_) {
    if (!other(packet)) continue;
    if (++others <= static_cast<size_t>(options_.packets_listed)) {
      listed.push_back(internal::Cat("  ", Describe(packet)));
    }
  }
  if (others > listed.size())
    listed.push_back(internal::Cat("  ... and ", others - listed.size(), " more"));
  return absl::FailedPreconditionError(internal::Cat(
      "ExpectNoOtherPackets: ", others, " unexpected packet(s):\n", absl::StrJoin(listed, "\n")));
}

void PacketVerifier::Ignore(PacketTemplate background) {
  ignored_.push_back(std::move(background));
}

bool PacketVerifier::Ignored(const DecodedPacket& packet) const {
  return std::any_of(ignored_.begin(), ignored_.end(),
                     [&](const PacketTemplate& t) { return t.Matches(packet); });
}

std::string PacketVerifier::Describe(const SeenPacket& packet) const {
  return absl::StrFormat("#%d at +%s: %s", packet.index,
                         absl::FormatDuration(packet.packet.timestamp - first_timestamp_),
                         packet.decoded.Summary());
}

std::string PacketVerifier::ClosestReport(const PacketTemplate& expected) const {
  if (unclaimed_.empty()) return "no unclaimed packet arrived";
  struct Candidate {
    const SeenPacket* packet;
    std::vector<FieldDiff> diffs;
  };
  std::vector<Candidate> candidates;
  candidates.reserve(unclaimed_.size());
  for (const SeenPacket& packet : unclaimed_) {
    candidates.push_back({&packet, expected.Diff(packet.decoded)});
  }
  std::stable_sort(
      candidates.begin(), candidates.end(),
      [](const Candidate& a, const Candidate& b) { return a.diffs.size() < b.diffs.size(); });
  const size_t shown = std::min<size_t>(candidates.size(), options_.closest_shown);
  std::string out = internal::Cat(unclaimed_.size(), " unclaimed packet(s), closest:");
  for (size_t i = 0; i < shown; ++i) {
    internal::Append(&out, "\n  ", Describe(*candidates[i].packet));
    for (const FieldDiff& diff : candidates[i].diffs) {
      internal::Append(&out, "\n      ", diff.ToString());
    }
  }
  return out;
}

}  // namespace nsmcert::pcap
