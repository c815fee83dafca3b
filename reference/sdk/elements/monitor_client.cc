#include "reference/sdk/elements/monitor_client.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {

struct MonitorClient::Follower {
  std::string url;
  std::unique_ptr<ConnectionEventStream> stream;
  std::thread thread;
  std::shared_ptr<ConnectionMonitor> monitor;

  std::mutex mu;
  connection::Connection view;  // this hop's view as last known; guarded by mu

  void SetView(const connection::Connection& conn) {
    std::lock_guard lock(mu);
    view = conn;
  }

  // Maps a downstream connection onto this hop's view; nullopt when nothing would change.
  std::optional<connection::Connection> Map(const connection::Connection& downstream,
                                            connection::ConnectionEventType type) {
    std::lock_guard lock(mu);
    connection::State state = type == connection::DELETE ? connection::DOWN : downstream.state();
    if (type == connection::INITIAL_STATE_TRANSFER && state == view.state()) return std::nullopt;
    connection::Connection mapped = view;
    const uint32_t own_index = view.path().index();
    *mapped.mutable_path() = downstream.path();
    mapped.mutable_path()->set_index(own_index);
    *mapped.mutable_context() = downstream.context();
    mapped.set_state(state);
    if (google::protobuf::util::MessageDifferencer::Equals(mapped, view)) return std::nullopt;
    view = mapped;
    return mapped;
  }

  std::optional<connection::Connection> MarkDown() {
    std::lock_guard lock(mu);
    if (view.state() == connection::DOWN) return std::nullopt;
    view.set_state(connection::DOWN);
    return view;
  }

  void Run() {
    for (;;) {
      auto event = stream->Next();
      if (!event.ok()) {
        // Our own Cancel (Close, a new URL, shutdown) is not a failure of the path below.
        if (event.status().code() != absl::StatusCode::kCancelled) {
          if (auto down = MarkDown()) monitor->Update(*down);
        }
        return;
      }
      if (event->type() == connection::INITIAL_STATE_TRANSFER && event->connections().empty()) {
        // The selector names our segment: the next hop no longer holds the connection (closed
        // before we subscribed, or the hop restarted).
        if (auto down = MarkDown()) monitor->Update(*down);
        continue;
      }
      for (const auto& [id, conn] : event->connections()) {
        if (auto mapped = Map(conn, event->type())) monitor->Update(*mapped);
      }
    }
  }

  void StopAndJoin() {
    stream->Cancel();
    if (thread.joinable()) thread.join();
  }
};

MonitorClient::MonitorClient(std::shared_ptr<ConnectionMonitor> monitor,
                             ConnectionEventStreamOpener open)
    : monitor_(std::move(monitor)), open_(std::move(open)) {}

MonitorClient::~MonitorClient() {
  std::map<std::string, std::shared_ptr<Follower>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(followers_);
  }
  for (auto& [id, follower] : all) follower->StopAndJoin();
}

absl::StatusOr<connection::Connection> MonitorClient::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  auto url = ctx.values().Get<ClientUrl>();
  if (url == nullptr || url->url.empty()) return conn;

  std::shared_ptr<Follower> current;
  {
    std::lock_guard lock(mu_);
    auto it = followers_.find(conn->id());
    if (it != followers_.end()) current = it->second;
  }
  if (current != nullptr && current->url == url->url) {
    current->SetView(*conn);
    return conn;
  }
  if (current != nullptr) Stop(conn->id());

  const auto& path = conn->path();
  if (path.index() >= static_cast<uint32_t>(path.path_segments_size())) return conn;
  const auto& own = path.path_segments(static_cast<int>(path.index()));
  connection::MonitorScopeSelector selector;
  auto* segment = selector.add_path_segments();
  segment->set_name(own.name());
  segment->set_id(own.id());
  auto stream = open_(url->url, selector);
  if (!stream.ok()) {
    (void)next.Close(ctx, *conn);
    return absl::Status(stream.status().code(), absl::StrCat("monitor: cannot follow ", url->url,
                                                             ": ", stream.status().message()));
  }
  auto follower = std::make_shared<Follower>();
  follower->url = url->url;
  follower->stream = *std::move(stream);
  follower->monitor = monitor_;
  follower->view = *conn;
  follower->thread = std::thread([f = follower.get()] { f->Run(); });
  std::shared_ptr<Follower> replaced;
  {
    std::lock_guard lock(mu_);
    auto& slot = followers_[conn->id()];
    replaced = std::move(slot);
    slot = follower;
  }
  if (replaced)
    replaced->StopAndJoin();  // a concurrent Request for the same id cannot happen
                              // under begin; this only guards misuse
  return conn;
}

absl::Status MonitorClient::Close(Context& ctx, connection::Connection& conn,
                                  const NetworkServiceNext& next) {
  Stop(conn.id());
  return next.Close(ctx, conn);
}

void MonitorClient::Stop(const std::string& id) {
  std::shared_ptr<Follower> follower;
  {
    std::lock_guard lock(mu_);
    auto it = followers_.find(id);
    if (it == followers_.end()) return;
    follower = std::move(it->second);
    followers_.erase(it);
  }
  follower->StopAndJoin();
}

size_t MonitorClient::following() const {
  std::lock_guard lock(mu_);
  return followers_.size();
}

}  // namespace nsmcert::sdk
